//! hyperjwt's API as a typical axum user would write it: the peer `benches/wrk/run.sh` measures
//! hyperjwt against. `POST /login` (bcrypt against the two demo users) returns an access and a
//! refresh token with Flask-JWT-Extended's claims; `GET /protected` wants `Authorization: Bearer`.
//! CORS for any origin. `JWT_SECRET_KEY`, `HOST` (127.0.0.1), `PORT` (5000), `WORKER_THREADS`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_http::cors::CorsLayer;

/// The same cost-12 hashes as hyperjwt's demo users (src/store/users.rs).
const USERS: [(&str, &str); 2] = [
    (
        "user1",
        "$2b$12$Zo4Gx8PbU2S7jfIBcCNwNupZ8UdpBejDK6e5Cy.5QbfHYqtIcVVVC",
    ),
    (
        "user2",
        "$2b$12$hMvI.VHEZ9QL3OtGVTgoSuaCvmXA0UN8Nut/bnFJLGh8oI3gJu9Jy",
    ),
];
/// An unknown user costs a bcrypt check too, so timing does not tell which names exist.
const DUMMY_HASH: &str = "$2b$12$ZavEWFs6SWy675aOBWvJ.OIIMMuNhEU2ueC1Dg59DCWZtWlC/G1HW";
const ACCESS_TTL: u64 = 15 * 60;
const REFRESH_TTL: u64 = 30 * 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
    #[serde(rename = "type")]
    token_type: String,
    fresh: bool,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

type AppState = Arc<Keys>;

struct ApiError(StatusCode, &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "msg": self.1 }))).into_response()
    }
}

fn unauthorized(msg: &'static str) -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, msg)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Keys {
    fn issue(
        &self,
        sub: &str,
        token_type: &str,
        fresh: bool,
        ttl: u64,
    ) -> Result<String, ApiError> {
        let now = now();
        let claims = Claims {
            sub: sub.to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl,
            jti: uuid::Uuid::new_v4().to_string(),
            token_type: token_type.to_owned(),
            fresh,
        };
        jsonwebtoken::encode(&Header::default(), &claims, &self.encoding)
            .map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login(
    State(keys): State<AppState>,
    Json(c): Json<Credentials>,
) -> Result<Json<Value>, ApiError> {
    let hash = USERS
        .iter()
        .find(|(name, _)| *name == c.username)
        .map_or(DUMMY_HASH, |(_, hash)| *hash);
    let known = hash != DUMMY_HASH;
    // bcrypt takes a quarter of a second of CPU: off the async threads.
    let valid =
        tokio::task::spawn_blocking(move || bcrypt::verify(c.password, hash).unwrap_or(false))
            .await
            .unwrap_or(false);
    if !(known && valid) {
        return Err(unauthorized("Invalid username or password"));
    }
    Ok(Json(json!({
        "access_token": keys.issue(&c.username, "access", true, ACCESS_TTL)?,
        "refresh_token": keys.issue(&c.username, "refresh", false, REFRESH_TTL)?,
    })))
}

/// The claims of a valid access token from `Authorization: Bearer`.
impl FromRequestParts<AppState> for Claims {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, keys: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(unauthorized("Missing Authorization Header"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(unauthorized(
                "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
            ))?;
        let claims = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &keys.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => unauthorized("Token has expired"),
                ErrorKind::ImmatureSignature => unauthorized("Token not yet valid"),
                ErrorKind::InvalidSignature => unauthorized("Signature verification failed"),
                _ => unauthorized("Invalid token"),
            })?
            .claims;
        if claims.token_type != "access" {
            return Err(unauthorized("Only non-refresh tokens are allowed"));
        }
        Ok(claims)
    }
}

async fn protected(claims: Claims) -> Json<Value> {
    Json(json!({ "logged_in_as": claims.sub }))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

fn main() {
    let env =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let secret = std::env::var("JWT_SECRET_KEY").expect("set JWT_SECRET_KEY");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    let keys = Arc::new(Keys {
        encoding: EncodingKey::from_secret(secret.as_bytes()),
        decoding: DecodingKey::from_secret(secret.as_bytes()),
        validation,
    });
    let app = Router::new()
        .route("/login", post(login))
        .route("/protected", get(protected))
        .route("/healthz", get(healthz))
        .layer(CorsLayer::permissive())
        .with_state(keys);

    // hyperjwt's choice (src/http/server.rs `runtime`): one thread on a host with up to two cores, else
    // one worker per core; WORKER_THREADS overrides it.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = match env("WORKER_THREADS", "0")
        .parse()
        .expect("WORKER_THREADS: a number")
    {
        0 if cores <= 2 => 1,
        0 => cores,
        n => n,
    };
    let mut runtime = if workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    let address = format!("{}:{}", env("HOST", "127.0.0.1"), env("PORT", "5000"));
    runtime
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&address).await.expect("bind");
            println!(
                "listening on http://{}",
                listener.local_addr().expect("local address")
            );
            // As hyperjwt does, so small answers are not held back by Nagle's algorithm.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await.expect("serve");
        });
}
