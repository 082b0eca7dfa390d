//! Tokens in cookies, over HTTP: reading a named cookie from the request's `Cookie` header
//! (RFC 6265 §5.4, §4.2.1) and writing the `Set-Cookie` lines (§4.1) that start a browser session at
//! `/login` and `/refresh` and end it at `/logout`. The rules (which cookie a route reads, the CSRF
//! double submit) are the handlers' (`crate::handlers::authenticate`) and `crate::auth::csrf`'s;
//! the settings are `crate::config::CookieSettings`, prepared here once.

use std::time::Duration;

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::error::ApiError;
use crate::config::{Config, CookieSettings};
use crate::jwt::TokenType;

/// Expired in every browser: the `Expires` that goes with `Max-Age=0` for clients that know only
/// the older attribute (RFC 6265 §5.2.1, §5.2.2).
const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

/// The cookie settings, prepared for requests: header names parsed, lifetimes and refusal texts
/// made once. Present in the app state only when cookies are in `JWT_TOKEN_LOCATION`.
#[derive(Debug)]
pub struct CookiePolicy {
    settings: CookieSettings,
    /// `Max-Age` of the access and refresh cookies (and their CSRF cookies): the token's lifetime,
    /// or `None` for session cookies (`JWT_SESSION_COOKIE=true`).
    access_max_age: Option<u64>,
    refresh_max_age: Option<u64>,
    access_csrf_header: HeaderName,
    refresh_csrf_header: HeaderName,
    /// Headers are a token location too: the refusal names both and keeps the Bearer challenge.
    headers_too: bool,
    missing_access: &'static str,
    missing_refresh: &'static str,
}

impl CookiePolicy {
    /// The policy of `config`, or `None` when tokens never travel in cookies.
    pub fn new(config: &Config) -> Option<Self> {
        if !config.token_location.cookies {
            return None;
        }
        let settings = config.cookies.clone();
        let max_age = |ttl: Duration| (!settings.session).then_some(ttl.as_secs());
        // Flask-JWT-Extended's texts name the cookie, so they are made from the configuration. The
        // error type carries `&'static str`; these few bytes are made once per app and kept.
        let missing = |name: &str| -> &'static str {
            let cookie = format!("Missing cookie \"{name}\"");
            let text = if config.token_location.headers {
                format!(
                    "Missing JWT in headers or cookies (Missing Authorization Header; {cookie})"
                )
            } else {
                cookie
            };
            Box::leak(text.into_boxed_str())
        };
        Some(CookiePolicy {
            access_max_age: max_age(config.access_token_ttl),
            refresh_max_age: max_age(config.refresh_token_ttl),
            // Checked as header names by the configuration; the fallback is never used.
            access_csrf_header: HeaderName::try_from(settings.access_csrf_header.as_str())
                .unwrap_or(HeaderName::from_static("x-csrf-token")),
            refresh_csrf_header: HeaderName::try_from(settings.refresh_csrf_header.as_str())
                .unwrap_or(HeaderName::from_static("x-csrf-token")),
            headers_too: config.token_location.headers,
            missing_access: missing(&settings.access_name),
            missing_refresh: missing(&settings.refresh_name),
            settings,
        })
    }

    pub fn settings(&self) -> &CookieSettings {
        &self.settings
    }

    /// The CSRF header names a preflight must allow, once each.
    pub fn csrf_header_names(&self) -> Vec<&str> {
        let mut names = vec![self.settings.access_csrf_header.as_str()];
        if !self
            .settings
            .refresh_csrf_header
            .eq_ignore_ascii_case(names[0])
        {
            names.push(&self.settings.refresh_csrf_header);
        }
        names
    }

    /// The token cookie of `kind` in the request, if it has a non-empty one.
    pub fn token<'h>(&self, headers: &'h HeaderMap, kind: TokenType) -> Option<&'h str> {
        let name = match kind {
            TokenType::Access => &self.settings.access_name,
            TokenType::Refresh => &self.settings.refresh_name,
        };
        cookie(headers, name)
    }

    /// The double-submit header that goes with a `kind` token cookie, if present and not empty.
    pub fn csrf_header<'h>(&self, headers: &'h HeaderMap, kind: TokenType) -> Option<&'h str> {
        let name = match kind {
            TokenType::Access => &self.access_csrf_header,
            TokenType::Refresh => &self.refresh_csrf_header,
        };
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    }

    /// Whether a cookie token used with `method` needs the double submit.
    pub fn csrf_required(&self, method: &str) -> bool {
        self.settings.csrf_protect
            && crate::auth::csrf::required_for(&self.settings.csrf_methods, method)
    }

    /// The 401 for a request with no token where one of `kind` was wanted: Flask-JWT-Extended's
    /// text, naming the cookie.
    pub fn missing(&self, kind: TokenType) -> ApiError {
        let msg = match kind {
            TokenType::Access => self.missing_access,
            TokenType::Refresh => self.missing_refresh,
        };
        ApiError::missing_token(msg, self.headers_too)
    }

    /// Adds the `Set-Cookie` lines for a new `kind` token: the HttpOnly token cookie and, with
    /// `JWT_CSRF_IN_COOKIES`, the readable CSRF cookie holding its `csrf` claim.
    pub fn set(
        &self,
        headers: &mut HeaderMap,
        kind: TokenType,
        token: &str,
        csrf: Option<&str>,
    ) -> Result<(), ApiError> {
        let s = &self.settings;
        let (name, path, csrf_name, csrf_path, max_age) = match kind {
            TokenType::Access => (
                &s.access_name,
                &s.access_path,
                &s.access_csrf_name,
                &s.access_csrf_path,
                self.access_max_age,
            ),
            TokenType::Refresh => (
                &s.refresh_name,
                &s.refresh_path,
                &s.refresh_csrf_name,
                &s.refresh_csrf_path,
                self.refresh_max_age,
            ),
        };
        let lifetime = max_age.map(|secs| format!("; Max-Age={secs}"));
        let lifetime = lifetime.as_deref().unwrap_or("");
        self.append(headers, name, token, path, lifetime, true)?;
        if let (Some(csrf), true) = (csrf, s.csrf_in_cookies) {
            self.append(headers, csrf_name, csrf, csrf_path, lifetime, false)?;
        }
        Ok(())
    }

    /// Adds the `Set-Cookie` lines that delete all four cookies: empty, `Max-Age=0`, with the same
    /// `Path` and `Domain` they were set with (RFC 6265 §3.1: only then is it the same cookie).
    pub fn clear(&self, headers: &mut HeaderMap) -> Result<(), ApiError> {
        let s = &self.settings;
        let gone = format!("; Max-Age=0; Expires={EPOCH}");
        for (name, path, http_only) in [
            (&s.access_name, &s.access_path, true),
            (&s.refresh_name, &s.refresh_path, true),
            (&s.access_csrf_name, &s.access_csrf_path, false),
            (&s.refresh_csrf_name, &s.refresh_csrf_path, false),
        ] {
            if http_only || s.csrf_in_cookies {
                self.append(headers, name, "", path, &gone, http_only)?;
            }
        }
        Ok(())
    }

    /// One `Set-Cookie` line (RFC 6265 §4.1.1). Names, paths and the domain were checked by the
    /// configuration; values are tokens (base64url and `.`) or UUIDs, all `cookie-octet`s.
    fn append(
        &self,
        headers: &mut HeaderMap,
        name: &str,
        value: &str,
        path: &str,
        lifetime: &str,
        http_only: bool,
    ) -> Result<(), ApiError> {
        let s = &self.settings;
        let mut line = format!("{name}={value}; Path={path}{lifetime}");
        if let Some(domain) = &s.domain {
            line.push_str("; Domain=");
            line.push_str(domain);
        }
        if http_only {
            line.push_str("; HttpOnly");
        }
        if s.secure {
            line.push_str("; Secure");
        }
        line.push_str("; SameSite=");
        line.push_str(s.same_site.as_str());
        let value = HeaderValue::try_from(line).map_err(|_| ApiError::internal())?;
        headers.append(header::SET_COOKIE, value);
        Ok(())
    }
}

/// The value of the first cookie called `name` in the request's `Cookie` header fields (RFC 6265
/// §5.4: `name=value` pairs separated by `; `; HTTP/2 may split them over several fields). The first
/// is the one with the longest path, as browsers order them, and the one Flask reads. An empty value
/// (what a cleared cookie can leave) counts as none. Surrounding double quotes are removed
/// (§4.1.1 `cookie-value`).
///
/// Each pair is read on its own, as bytes: what other cookies hold is not ours to judge (RFC 6265
/// §5.2 is lenient on values), so a `theme=café` some other page on the host set can't hide the
/// token beside it. The cookie asked for stays strict: its value must be visible ASCII (a token or
/// a UUID always is), or it counts as none.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|field| field.as_bytes().split(|&b| b == b';'))
        .find_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            (pair[..eq].trim_ascii() == name.as_bytes()).then(|| pair[eq + 1..].trim_ascii())
        })?;
    let value = value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(value);
    if value.is_empty() || !value.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    // Visible ASCII, so UTF-8.
    std::str::from_utf8(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn policy(pairs: &[(&str, &str)]) -> CookiePolicy {
        let mut map: HashMap<&str, &str> = [
            ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ("JWT_TOKEN_LOCATION", "cookies"),
            ("CORS_ORIGINS", "https://app.example"),
        ]
        .into();
        map.extend(pairs.iter().copied());
        let config = Config::from_lookup(|k| map.get(k).map(|v| v.to_string())).unwrap();
        CookiePolicy::new(&config).unwrap()
    }

    fn cookies(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_str(value).unwrap());
        h
    }

    fn set_cookies(h: &HeaderMap) -> Vec<&str> {
        h.get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn reads_the_named_cookie() {
        let h = cookies("csrf_access_token=c; access_token_cookie=a.b.c;refresh_token_cookie=r");
        assert_eq!(cookie(&h, "access_token_cookie"), Some("a.b.c"));
        assert_eq!(cookie(&h, "refresh_token_cookie"), Some("r"));
        assert_eq!(cookie(&h, "csrf_access_token"), Some("c"));
        assert_eq!(cookie(&h, "access_token"), None);
        assert_eq!(cookie(&HeaderMap::new(), "access_token_cookie"), None);
    }

    #[test]
    fn first_of_several_empty_and_quoted() {
        let mut h = cookies("x=1; access_token_cookie=first");
        h.append(
            header::COOKIE,
            HeaderValue::from_static("access_token_cookie=second"),
        );
        assert_eq!(cookie(&h, "access_token_cookie"), Some("first"));
        assert_eq!(
            cookie(&cookies("access_token_cookie="), "access_token_cookie"),
            None
        );
        assert_eq!(
            cookie(
                &cookies("access_token_cookie=\"a.b.c\""),
                "access_token_cookie"
            ),
            Some("a.b.c")
        );
        // A name is matched whole, not as a suffix or prefix.
        assert_eq!(
            cookie(&cookies("xaccess_token_cookie=1"), "access_token_cookie"),
            None
        );
    }

    /// Bytes a header may carry (obs-text, RFC 9110 §5.5) but `HeaderValue::to_str` refuses.
    fn cookie_bytes(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_bytes(value).unwrap());
        h
    }

    /// Another page on the host may set any cookie: its bytes don't hide ours. The token cookie
    /// itself stays strict: visible ASCII only, or it is none.
    #[test]
    fn each_pair_is_read_on_its_own_and_the_token_cookie_stays_strict() {
        for (field, expected) in [
            (
                &b"theme=caf\xc3\xa9; access_token_cookie=a.b.c"[..],
                Some("a.b.c"),
            ),
            (
                b"access_token_cookie=a.b.c; theme=caf\xc3\xa9",
                Some("a.b.c"),
            ),
            (
                b"\xff\xfe=\x80; access_token_cookie=a.b.c;x=\xb0",
                Some("a.b.c"),
            ),
            (
                b"theme=\"caf\xc3\xa9\";access_token_cookie=\"a.b.c\"",
                Some("a.b.c"),
            ),
            (b"=\xb0; ;;access_token_cookie=a.b.c", Some("a.b.c")),
            // A name is compared as bytes, whole.
            (
                b"access_token_cookie\xc3\xa9=x; access_token_cookie=a.b.c",
                Some("a.b.c"),
            ),
            (b"access_token_cookie=a.b.c\xc3\xa9", None),
            (b"access_token_cookie=a.\x80b.c", None),
            (b"access_token_cookie=a b", None),
            (b"access_token_cookie=\"\"", None),
            // The first of two is read, even when it is unusable.
            (b"access_token_cookie=\xb0; access_token_cookie=a.b.c", None),
        ] {
            let h = cookie_bytes(field);
            assert_eq!(
                cookie(&h, "access_token_cookie"),
                expected,
                "{}",
                String::from_utf8_lossy(field)
            );
        }
        // In a field of its own too (HTTP/2 splits them).
        let mut h = cookie_bytes(b"theme=caf\xc3\xa9");
        h.append(
            header::COOKIE,
            HeaderValue::from_static("access_token_cookie=a.b.c"),
        );
        assert_eq!(cookie(&h, "access_token_cookie"), Some("a.b.c"));
    }

    #[test]
    fn sets_token_and_csrf_cookies_with_the_attributes() {
        let mut h = HeaderMap::new();
        let p = policy(&[]);
        p.set(&mut h, TokenType::Access, "a.b.c", Some("uuid"))
            .unwrap();
        p.set(&mut h, TokenType::Refresh, "r.r.r", Some("ruuid"))
            .unwrap();
        assert_eq!(
            set_cookies(&h),
            [
                "access_token_cookie=a.b.c; Path=/; HttpOnly; Secure; SameSite=Strict",
                "csrf_access_token=uuid; Path=/; Secure; SameSite=Strict",
                "refresh_token_cookie=r.r.r; Path=/refresh; HttpOnly; Secure; SameSite=Strict",
                "csrf_refresh_token=ruuid; Path=/; Secure; SameSite=Strict",
            ]
        );
    }

    #[test]
    fn persistent_cookies_live_as_long_as_their_token() {
        let mut h = HeaderMap::new();
        let p = policy(&[
            ("JWT_SESSION_COOKIE", "false"),
            ("JWT_COOKIE_DOMAIN", "example.com"),
            ("JWT_COOKIE_SAMESITE", "lax"),
            ("JWT_CSRF_IN_COOKIES", "false"),
        ]);
        p.set(&mut h, TokenType::Access, "a", Some("c")).unwrap();
        p.set(&mut h, TokenType::Refresh, "r", Some("c")).unwrap();
        assert_eq!(
            set_cookies(&h),
            [
                "access_token_cookie=a; Path=/; Max-Age=900; Domain=example.com; HttpOnly; Secure; SameSite=Lax",
                "refresh_token_cookie=r; Path=/refresh; Max-Age=2592000; Domain=example.com; HttpOnly; Secure; SameSite=Lax",
            ]
        );
    }

    #[test]
    fn clearing_matches_path_and_domain() {
        let mut h = HeaderMap::new();
        policy(&[("JWT_COOKIE_DOMAIN", "example.com")])
            .clear(&mut h)
            .unwrap();
        let tail = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com";
        assert_eq!(
            set_cookies(&h),
            [
                format!("access_token_cookie=; Path=/; {tail}; HttpOnly; Secure; SameSite=Strict"),
                format!(
                    "refresh_token_cookie=; Path=/refresh; {tail}; HttpOnly; Secure; SameSite=Strict"
                ),
                format!("csrf_access_token=; Path=/; {tail}; Secure; SameSite=Strict"),
                format!("csrf_refresh_token=; Path=/; {tail}; Secure; SameSite=Strict"),
            ]
        );
    }

    #[test]
    fn missing_cookie_texts_name_the_cookie() {
        assert_eq!(
            policy(&[]).missing(TokenType::Access).msg,
            "Missing cookie \"access_token_cookie\""
        );
        let both = policy(&[("JWT_TOKEN_LOCATION", "headers,cookies")]);
        let err = both.missing(TokenType::Refresh);
        assert_eq!(
            err.msg,
            "Missing JWT in headers or cookies (Missing Authorization Header; \
             Missing cookie \"refresh_token_cookie\")"
        );
        assert!(err.header.is_some());
        assert!(policy(&[]).missing(TokenType::Access).header.is_none());
    }

    #[test]
    fn csrf_methods_and_headers() {
        let p = policy(&[]);
        assert!(p.csrf_required("POST") && !p.csrf_required("GET"));
        let off = policy(&[("JWT_COOKIE_CSRF_PROTECT", "false")]);
        assert!(!off.csrf_required("POST"));
        let mut h = cookies("a=b");
        h.insert("x-csrf-token", HeaderValue::from_static("v"));
        assert_eq!(p.csrf_header(&h, TokenType::Access), Some("v"));
        assert_eq!(p.csrf_header(&h, TokenType::Refresh), Some("v"));
        assert_eq!(p.csrf_header_names(), ["X-CSRF-TOKEN"]);
        let two = policy(&[("JWT_REFRESH_CSRF_HEADER_NAME", "X-CSRF-REFRESH")]);
        assert_eq!(two.csrf_header_names(), ["X-CSRF-TOKEN", "X-CSRF-REFRESH"]);
        assert_eq!(two.csrf_header(&h, TokenType::Refresh), None);
    }
}
