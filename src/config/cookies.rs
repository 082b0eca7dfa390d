//! Where tokens travel (`JWT_TOKEN_LOCATION`) and, for browsers, the cookie settings: Flask-JWT-Extended's
//! keys and names, with safer defaults (docs/cookies.md says where they differ and why). Parsed once
//! at start-up; the cookies themselves are written and read by `crate::http::cookies`.
//!
//! Settings a browser would silently ignore, or that would hand a session to any site, stop start-up
//! here: cookies with `CORS_ORIGINS=*`, `SameSite=None` without `Secure`, a name or path a
//! `Set-Cookie` line can't carry (RFC 6265 §4.1.1), a `__Host-`/`__Secure-` prefix spelt in another
//! case, a CSRF cookie named like a token cookie.

use super::kinds::{ConfigError, CorsOrigins};
use super::values::parse_bool;

/// Where a request may bring its token (`JWT_TOKEN_LOCATION`). At least one is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLocation {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    pub headers: bool,
    /// The HttpOnly token cookies, with the CSRF double submit (docs/cookies.md).
    pub cookies: bool,
}

impl Default for TokenLocation {
    fn default() -> Self {
        TokenLocation {
            headers: true,
            cookies: false,
        }
    }
}

/// The `SameSite` attribute of every cookie the server sets (RFC 6265bis §4.1.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only on requests from the same site: the default here.
    Strict,
    /// Also sent on top-level navigations from other sites.
    Lax,
    /// Sent on cross-site requests too; browsers require `Secure` with it.
    None,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The cookie settings, used when `JWT_TOKEN_LOCATION` includes `cookies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSettings {
    /// `JWT_ACCESS_COOKIE_NAME`, `access_token_cookie`.
    pub access_name: String,
    /// `JWT_REFRESH_COOKIE_NAME`, `refresh_token_cookie`.
    pub refresh_name: String,
    /// `JWT_ACCESS_CSRF_COOKIE_NAME`, `csrf_access_token`: readable by page scripts.
    pub access_csrf_name: String,
    /// `JWT_REFRESH_CSRF_COOKIE_NAME`, `csrf_refresh_token`.
    pub refresh_csrf_name: String,
    /// `JWT_ACCESS_COOKIE_PATH`, `/`.
    pub access_path: String,
    /// `JWT_REFRESH_COOKIE_PATH`, `/refresh` here (Flask-JWT-Extended: `/`), so the long-lived token
    /// goes to one route only.
    pub refresh_path: String,
    /// `JWT_ACCESS_CSRF_COOKIE_PATH`, `/`.
    pub access_csrf_path: String,
    /// `JWT_REFRESH_CSRF_COOKIE_PATH`, `/`: the page must be able to read it wherever it runs.
    pub refresh_csrf_path: String,
    /// `JWT_COOKIE_DOMAIN`; unset, the cookies are host-only (RFC 6265 §5.3 step 6).
    pub domain: Option<String>,
    /// `JWT_COOKIE_SECURE`, `true` here (Flask-JWT-Extended: `false`).
    pub secure: bool,
    /// `JWT_COOKIE_SAMESITE`, `Strict` here (Flask-JWT-Extended: no attribute).
    pub same_site: SameSite,
    /// `JWT_SESSION_COOKIE`, `true`: the cookies end with the browser session. `false` gives them
    /// `Max-Age` = their token's lifetime.
    pub session: bool,
    /// `JWT_COOKIE_CSRF_PROTECT`, `true`: tokens carry a `csrf` claim, and a cookie token used with
    /// one of [`CookieSettings::csrf_methods`] needs it in a header.
    pub csrf_protect: bool,
    /// `JWT_CSRF_METHODS`, `POST, PUT, PATCH, DELETE`, upper case.
    pub csrf_methods: Vec<String>,
    /// `JWT_ACCESS_CSRF_HEADER_NAME`, `X-CSRF-TOKEN`.
    pub access_csrf_header: String,
    /// `JWT_REFRESH_CSRF_HEADER_NAME`, `X-CSRF-TOKEN`.
    pub refresh_csrf_header: String,
    /// `JWT_CSRF_IN_COOKIES`, `true`: the readable `csrf_*` cookies are set beside the token cookies.
    pub csrf_in_cookies: bool,
}

/// The cookie settings from `get`, and `JWT_TOKEN_LOCATION`, checked against `CORS_ORIGINS`.
pub(super) fn parse(
    get: &dyn Fn(&str) -> Option<String>,
    cors: &CorsOrigins,
) -> Result<(TokenLocation, CookieSettings), ConfigError> {
    let location = parse_location(get("JWT_TOKEN_LOCATION"))?;
    let flag =
        |key: &'static str, default: bool| get(key).map_or(Ok(default), |v| parse_bool(key, &v));
    let name = |key: &'static str, default: &str| token_name(key, get(key), default, "cookie");
    let path = |key: &'static str, default: &str| cookie_path(key, get(key), default);
    // Header names are case-insensitive; Flask-JWT-Extended's spelling is kept for the preflight.
    let header = |key: &'static str| token_name(key, get(key), "X-CSRF-TOKEN", "header");

    let secure = flag("JWT_COOKIE_SECURE", true)?;
    let same_site = parse_same_site(get("JWT_COOKIE_SAMESITE"))?;
    if same_site == SameSite::None && !secure {
        return Err(ConfigError {
            key: "JWT_COOKIE_SAMESITE",
            problem: "None needs JWT_COOKIE_SECURE=true: browsers drop SameSite=None cookies \
                      that are not Secure"
                .into(),
        });
    }
    if flag("JWT_CSRF_CHECK_FORM", false)? {
        return Err(ConfigError {
            key: "JWT_CSRF_CHECK_FORM",
            problem: "form fields are not read here (every body is JSON); send the CSRF value in \
                      the X-CSRF-TOKEN header and leave this unset"
                .into(),
        });
    }
    let settings = CookieSettings {
        access_name: name("JWT_ACCESS_COOKIE_NAME", "access_token_cookie")?,
        refresh_name: name("JWT_REFRESH_COOKIE_NAME", "refresh_token_cookie")?,
        access_csrf_name: name("JWT_ACCESS_CSRF_COOKIE_NAME", "csrf_access_token")?,
        refresh_csrf_name: name("JWT_REFRESH_CSRF_COOKIE_NAME", "csrf_refresh_token")?,
        access_path: path("JWT_ACCESS_COOKIE_PATH", "/")?,
        refresh_path: path("JWT_REFRESH_COOKIE_PATH", "/refresh")?,
        access_csrf_path: path("JWT_ACCESS_CSRF_COOKIE_PATH", "/")?,
        refresh_csrf_path: path("JWT_REFRESH_CSRF_COOKIE_PATH", "/")?,
        domain: cookie_domain(get("JWT_COOKIE_DOMAIN"))?,
        secure,
        same_site,
        session: flag("JWT_SESSION_COOKIE", true)?,
        csrf_protect: flag("JWT_COOKIE_CSRF_PROTECT", true)?,
        csrf_methods: csrf_methods(get("JWT_CSRF_METHODS"))?,
        access_csrf_header: header("JWT_ACCESS_CSRF_HEADER_NAME")?,
        refresh_csrf_header: header("JWT_REFRESH_CSRF_HEADER_NAME")?,
        csrf_in_cookies: flag("JWT_CSRF_IN_COOKIES", true)?,
    };
    check_prefixes(&settings)?;
    check_names_apart(&settings)?;
    if location.cookies && *cors == CorsOrigins::Any {
        return Err(ConfigError {
            key: "CORS_ORIGINS",
            problem: "cookies are in JWT_TOKEN_LOCATION, and * (the default) cannot carry them: \
                      credentials need an exact origin, and echoing any origin would let every \
                      site use the session; list your front-end origins, e.g. \
                      CORS_ORIGINS=https://app.example.com"
                .into(),
        });
    }
    Ok((location, settings))
}

/// The cookie-name prefixes browsers enforce (RFC 6265bis §4.1.3): a `__Secure-` cookie must be
/// `Secure`; a `__Host-` one also host-only (no `Domain`) with `Path=/`, which keeps a sibling
/// subdomain from planting one. A browser silently drops a cookie that breaks them, so does start-up.
fn check_prefixes(s: &CookieSettings) -> Result<(), ConfigError> {
    let cookies: [(&'static str, &str, &str); 4] = [
        ("JWT_ACCESS_COOKIE_NAME", &s.access_name, &s.access_path),
        ("JWT_REFRESH_COOKIE_NAME", &s.refresh_name, &s.refresh_path),
        (
            "JWT_ACCESS_CSRF_COOKIE_NAME",
            &s.access_csrf_name,
            &s.access_csrf_path,
        ),
        (
            "JWT_REFRESH_CSRF_COOKIE_NAME",
            &s.refresh_csrf_name,
            &s.refresh_csrf_path,
        ),
    ];
    for (key, name, path) in cookies {
        // Browsers (Chromium, for one) match the prefixes in any case and then hold the cookie to
        // their rules; spelt otherwise here, the checks below would not see it.
        for prefix in ["__Secure-", "__Host-"] {
            let written = name.get(..prefix.len()).unwrap_or_default();
            if written.eq_ignore_ascii_case(prefix) && written != prefix {
                return Err(ConfigError {
                    key,
                    problem: format!(
                        "{name:?}: browsers read {written:?} as the {prefix} prefix, in any case, \
                         and drop a cookie that breaks its rules; spell it {prefix}"
                    ),
                });
            }
        }
        let host = name.starts_with("__Host-");
        let problem = if (host || name.starts_with("__Secure-")) && !s.secure {
            "the prefix needs JWT_COOKIE_SECURE=true"
        } else if host && s.domain.is_some() {
            "a __Host- cookie can't have a Domain: unset JWT_COOKIE_DOMAIN"
        } else if host && path != "/" {
            "a __Host- cookie must have Path=/ (its path setting says otherwise)"
        } else {
            continue;
        };
        return Err(ConfigError {
            key,
            problem: format!("{name:?}: {problem}; browsers drop it otherwise"),
        });
    }
    Ok(())
}

/// The CSRF cookies are readable by page scripts, the token cookies are HttpOnly: a CSRF cookie
/// with a token cookie's name (at any path) would overwrite it, or be read as the token, and two
/// CSRF cookies with one name and path overwrite each other.
fn check_names_apart(s: &CookieSettings) -> Result<(), ConfigError> {
    if !s.csrf_in_cookies {
        return Ok(());
    }
    let csrf = [
        ("JWT_ACCESS_CSRF_COOKIE_NAME", &s.access_csrf_name),
        ("JWT_REFRESH_CSRF_COOKIE_NAME", &s.refresh_csrf_name),
    ];
    for (key, name) in csrf {
        for (token_key, token_name) in [
            ("JWT_ACCESS_COOKIE_NAME", &s.access_name),
            ("JWT_REFRESH_COOKIE_NAME", &s.refresh_name),
        ] {
            if name == token_name {
                return Err(ConfigError {
                    key,
                    problem: format!(
                        "{name:?} is also {token_key}: the readable CSRF cookie would overwrite \
                         the HttpOnly token cookie; give it a name of its own"
                    ),
                });
            }
        }
    }
    if s.access_csrf_name == s.refresh_csrf_name && s.access_csrf_path == s.refresh_csrf_path {
        return Err(ConfigError {
            key: "JWT_REFRESH_CSRF_COOKIE_NAME",
            problem: format!(
                "{:?} is also JWT_ACCESS_CSRF_COOKIE_NAME, with the same path: one CSRF cookie \
                 would overwrite the other; give it a name of its own",
                s.refresh_csrf_name
            ),
        });
    }
    Ok(())
}

/// `headers` (the default), `cookies`, or both, comma-separated in any order. Flask-JWT-Extended's
/// other locations (`query_string`, `json`) are refused by name: a token in a URL ends up in logs.
fn parse_location(value: Option<String>) -> Result<TokenLocation, ConfigError> {
    let Some(value) = value else {
        return Ok(TokenLocation::default());
    };
    let mut location = TokenLocation {
        headers: false,
        cookies: false,
    };
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "headers" => location.headers = true,
            "cookies" => location.cookies = true,
            other => {
                return Err(ConfigError {
                    key: "JWT_TOKEN_LOCATION",
                    problem: format!(
                        "{other:?} is not supported; use headers, cookies, or headers,cookies"
                    ),
                });
            }
        }
    }
    if !location.headers && !location.cookies {
        return Err(ConfigError {
            key: "JWT_TOKEN_LOCATION",
            problem: "name at least one of headers, cookies".into(),
        });
    }
    Ok(location)
}

fn parse_same_site(value: Option<String>) -> Result<SameSite, ConfigError> {
    let Some(value) = value else {
        return Ok(SameSite::Strict);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "strict" => Ok(SameSite::Strict),
        "lax" => Ok(SameSite::Lax),
        "none" => Ok(SameSite::None),
        _ => Err(ConfigError {
            key: "JWT_COOKIE_SAMESITE",
            problem: format!("{value:?} is not one of Strict, Lax, None"),
        }),
    }
}

/// RFC 9110 §5.6.2 `tchar`: what a token (a cookie name, a header name, a method) is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A cookie name (RFC 6265 §4.1.1) or a header name (RFC 9110 §5.1): a token, `default` if unset.
fn token_name(
    key: &'static str,
    value: Option<String>,
    default: &str,
    what: &str,
) -> Result<String, ConfigError> {
    let name = value.map_or_else(|| default.to_string(), |v| v.trim().to_string());
    if name.bytes().all(is_tchar) {
        Ok(name)
    } else {
        Err(ConfigError {
            key,
            problem: format!("{name:?} is not a {what} name: use letters, digits, - and _"),
        })
    }
}

/// A `Path` attribute (RFC 6265 §4.1.1 `path-value`): starts with `/`, no `;`, no controls or spaces.
fn cookie_path(
    key: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    let path = value.map_or_else(|| default.to_string(), |v| v.trim().to_string());
    if path.starts_with('/') && path.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
        Ok(path)
    } else {
        Err(ConfigError {
            key,
            problem: format!(
                "{path:?} is not a cookie path: it starts with / and has no ; or spaces"
            ),
        })
    }
}

/// A `Domain` attribute: a host name (RFC 6265 §4.1.2.3), letters, digits, `-` and `.`; a leading
/// `.` is allowed and ignored by browsers.
fn cookie_domain(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let domain = value.trim();
    let bare = domain.strip_prefix('.').unwrap_or(domain);
    if !bare.is_empty()
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Ok(Some(domain.to_string()))
    } else {
        Err(ConfigError {
            key: "JWT_COOKIE_DOMAIN",
            problem: format!(
                "{domain:?} is not a domain name; leave it unset for cookies of this host only"
            ),
        })
    }
}

/// Comma-separated method names, upper-cased (methods are case-sensitive, RFC 9110 §9.1, and every
/// standard one is upper case). Empty turns the check off for every method, so it is refused: that
/// is `JWT_COOKIE_CSRF_PROTECT=false`, said plainly.
fn csrf_methods(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(["POST", "PUT", "PATCH", "DELETE"]
            .map(String::from)
            .to_vec());
    };
    let mut methods = Vec::new();
    for method in value.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        if !method.bytes().all(is_tchar) {
            return Err(ConfigError {
                key: "JWT_CSRF_METHODS",
                problem: format!("{method:?} is not an HTTP method"),
            });
        }
        methods.push(method.to_ascii_uppercase());
    }
    if methods.is_empty() {
        return Err(ConfigError {
            key: "JWT_CSRF_METHODS",
            problem: "no method named; to turn CSRF checks off, set JWT_COOKIE_CSRF_PROTECT=false"
                .into(),
        });
    }
    Ok(methods)
}
