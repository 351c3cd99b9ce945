//! Which headers cross the proxy. Toward the app: hop-by-hop headers, anything that claims to
//! say who the user is or where the request came from, and Tycho's own credentials are removed;
//! the proxy then says those things itself. Toward the browser: hop-by-hop headers and any
//! attempt by the app to set Tycho's session cookie are removed.

use super::session::COOKIE_NAME;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Connection-level headers (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Headers that only the proxy may set (the original Ambassador mapping's, and the usual ones).
const SET_BY_PROXY: [&str; 11] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-user",
    "x-real-ip",
    "x-original-path",
    "remote_user",
    "remote-user",
];

/// What the proxy tells the app about the request.
#[derive(Debug, Clone)]
pub struct Forwarded<'a> {
    pub client_ip: Option<std::net::IpAddr>,
    pub proto: &'a str,
    pub host: Option<&'a HeaderValue>,
    /// The browser-side prefix without its trailing slash, e.g. `/connect/<guid>`.
    pub prefix: &'a str,
    pub user: &'a str,
    /// The path (and query) the browser asked for, when the proxy rewrote it.
    pub original_path: Option<&'a str>,
}

/// Removes the headers named in `Connection` and the hop-by-hop ones (keeps `Upgrade` only when
/// `keep_upgrade`).
fn remove_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        if !(keep_upgrade && name == header::UPGRADE) {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if !keep_upgrade {
        headers.remove(header::UPGRADE);
    }
}

/// The request headers the app receives. `auth_header` is the trusted-proxy header, if any;
/// `drop_authorization` is set when `Authorization` carried the caller's Tycho credential.
pub fn to_upstream(
    headers: &mut HeaderMap,
    forwarded: &Forwarded<'_>,
    auth_header: Option<&HeaderName>,
    drop_authorization: bool,
) {
    remove_hop_by_hop(headers, false);
    for name in SET_BY_PROXY {
        headers.remove(name);
    }
    if let Some(name) = auth_header {
        headers.remove(name);
    }
    // The trusted proxy's shared secret would let an app claim to be anyone.
    headers.remove(crate::auth::PROXY_SECRET_HEADER);
    if drop_authorization {
        headers.remove(header::AUTHORIZATION);
    }
    strip_session_cookie(headers);
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    if let Some(ip) = forwarded.client_ip {
        set("x-forwarded-for", &ip.to_string());
        set("x-real-ip", &ip.to_string());
    }
    set("x-forwarded-proto", forwarded.proto);
    set("x-forwarded-prefix", forwarded.prefix);
    set("x-forwarded-user", forwarded.user);
    set("remote_user", forwarded.user);
    if let Some(path) = forwarded.original_path {
        set("x-original-path", path);
    }
    if let Some(host) = forwarded.host {
        headers.insert("x-forwarded-host", host.clone());
    }
}

/// The response headers the browser receives.
pub fn to_client(headers: &mut HeaderMap) {
    remove_hop_by_hop(headers, false);
    let kept: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| !sets_session_cookie(v))
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for v in kept {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Headers of a WebSocket handshake toward the app: as for any request, minus the handshake's
/// own headers, which the proxy's WebSocket client writes.
pub fn to_upstream_websocket(headers: &mut HeaderMap) {
    for name in [
        "upgrade",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "content-length",
    ] {
        headers.remove(name);
    }
}

fn sets_session_cookie(value: &HeaderValue) -> bool {
    value
        .to_str()
        .ok()
        .and_then(|v| cookie::Cookie::parse(v).ok())
        .is_none_or(|c| c.name() == COOKIE_NAME)
}

/// Removes Tycho's session cookie from every `Cookie` header, keeping the app's own cookies.
pub fn strip_session_cookie(headers: &mut HeaderMap) {
    let values: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .map(str::trim)
                .filter(|pair| {
                    pair.split_once('=')
                        .map_or(pair.trim(), |(name, _)| name.trim())
                        != COOKIE_NAME
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|v| !v.is_empty())
        .collect();
    headers.remove(header::COOKIE);
    for v in values {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.append(header::COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::try_from(*k).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn client_claims_are_replaced_and_credentials_removed() {
        let mut h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-user", "admin"),
            ("remote_user", "admin"),
            ("x-remote-user", "admin"),
            ("x-tycho-proxy-secret", "the-proxy-secret"),
            ("authorization", "Bearer secret"),
            ("connection", "keep-alive, x-drop-me"),
            ("x-drop-me", "1"),
            ("cookie", "_xsrf=abc; tycho_session=SECRET; theme=dark"),
            ("accept", "text/html"),
        ]);
        let host = HeaderValue::from_static("tycho.example.org");
        let fwd = Forwarded {
            client_ip: Some("10.1.2.3".parse().unwrap()),
            proto: "https",
            host: Some(&host),
            prefix: "/connect/g",
            user: "alice",
            original_path: None,
        };
        to_upstream(
            &mut h,
            &fwd,
            Some(&HeaderName::from_static("x-remote-user")),
            true,
        );
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert_eq!(h["x-forwarded-user"], "alice");
        assert_eq!(h["remote_user"], "alice");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "tycho.example.org");
        assert_eq!(h["x-forwarded-prefix"], "/connect/g");
        assert_eq!(h["cookie"], "_xsrf=abc; theme=dark");
        assert_eq!(h["accept"], "text/html");
        for gone in [
            "x-remote-user",
            "x-tycho-proxy-secret",
            "authorization",
            "connection",
            "x-drop-me",
            "x-original-path",
        ] {
            assert!(!h.contains_key(gone), "{gone} was forwarded");
        }
        assert_eq!(h.get_all("x-forwarded-for").iter().count(), 1);
    }

    #[test]
    fn only_the_session_cookie_is_removed() {
        let mut h = headers(&[("cookie", "tycho_session=x")]);
        strip_session_cookie(&mut h);
        assert!(!h.contains_key("cookie"));
        let mut h = headers(&[("cookie", "a=1"), ("cookie", "tycho_session=x; b=2")]);
        strip_session_cookie(&mut h);
        let all: Vec<_> = h.get_all("cookie").iter().collect();
        assert_eq!(all, ["a=1", "b=2"]);
    }

    #[test]
    fn apps_cannot_set_the_session_cookie() {
        let mut h = headers(&[
            ("set-cookie", "tycho_session=evil; Path=/"),
            ("set-cookie", "_xsrf=ok; Path=/connect/g/"),
            ("transfer-encoding", "chunked"),
        ]);
        to_client(&mut h);
        let all: Vec<_> = h.get_all("set-cookie").iter().collect();
        assert_eq!(all, ["_xsrf=ok; Path=/connect/g/"]);
        assert!(!h.contains_key("transfer-encoding"));
    }
}
