//! `ports:` and `expose:` in compose's short (`[ip:][published:]target[/proto]`, with ranges)
//! and long syntax.

use super::keys;
use super::reader::{Reader, child};
use crate::codes;
use crate::model::Port;
use crate::yaml::{Node, Value};

/// Widest range one entry may expand to; wider is almost certainly a mistake.
const MAX_RANGE: u32 = 100;

pub fn load_ports(node: &Node, path: &str, published: bool, r: &mut Reader) -> Vec<Port> {
    let mut ports = Vec::new();
    for (i, item) in r.list(node, path).unwrap_or(&[]).iter().enumerate() {
        let ipath = child(path, &i.to_string());
        let pos = r.pos(item, &ipath);
        let entry = match &item.value {
            Value::Map(_) => long_syntax(item, &ipath, r),
            _ => match r.string(item, &ipath) {
                Some(text) => short_syntax(&text, published)
                    .map_err(|message| r.error(codes::INVALID_PORT, message, item, &ipath))
                    .ok(),
                None => None,
            },
        };
        let Some(spec) = entry else { continue };
        if spec.host_ip {
            r.warn(
                codes::NOT_TRANSLATED,
                "not translated: host IP (ports are published on the system's Service)",
                item,
                &ipath,
            );
        }
        for (offset, container) in (spec.container.0..=spec.container.1).enumerate() {
            ports.push(Port {
                container: container as u16,
                published: spec
                    .published
                    .map(|(start, _)| (start + offset as u32) as u16),
                protocol: spec.protocol.clone(),
                pos: pos.clone(),
            });
        }
    }
    ports
}

struct Spec {
    container: (u32, u32),
    published: Option<(u32, u32)>,
    protocol: String,
    host_ip: bool,
}

/// Parses the short syntax; an error message on failure.
fn short_syntax(text: &str, published: bool) -> Result<Spec, String> {
    let text = text.trim();
    let (rest, protocol) = match text.rsplit_once('/') {
        Some((rest, proto)) => (rest, protocol(proto)?),
        None => (text, "TCP".to_string()),
    };
    // An IPv6 host address is bracketed: `[::1]:8080:80`.
    let (host_ip, rest) = match rest.strip_prefix('[') {
        Some(after) => {
            let (_, tail) = after
                .split_once(']')
                .ok_or_else(|| format!("`{text}`: `[` opens a host address that is not closed"))?;
            (true, tail.strip_prefix(':').unwrap_or(tail))
        }
        None => (false, rest),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (host_ip, published_text, container_text) = match parts.as_slice() {
        [container] => (host_ip, "", *container),
        [published, container] => (host_ip, *published, *container),
        [_ip, published, container] => (true, *published, *container),
        _ => {
            return Err(format!(
                "`{text}` is not a port: write TARGET, PUBLISHED:TARGET or IP:PUBLISHED:TARGET"
            ));
        }
    };
    let container = range(container_text, text)?;
    if !published && !published_text.is_empty() {
        return Err(format!(
            "`{text}`: `expose` takes container ports only; publish ports under `ports:`"
        ));
    }
    // An empty published part (e.g. `${HOST_PORT}:80` with HOST_PORT unset) publishes on the target.
    let published = if published_text.is_empty() {
        None
    } else {
        Some(range(published_text, text)?)
    };
    if let Some(p) = published
        && p.1 - p.0 != container.1 - container.0
    {
        return Err(format!(
            "`{text}`: the published range and the target range have different lengths"
        ));
    }
    Ok(Spec {
        container,
        published,
        protocol,
        host_ip,
    })
}

fn range(part: &str, whole: &str) -> Result<(u32, u32), String> {
    let (start, end) = match part.split_once('-') {
        Some((a, b)) => (number(a, whole)?, number(b, whole)?),
        None => {
            let n = number(part, whole)?;
            (n, n)
        }
    };
    if end < start {
        return Err(format!("`{whole}`: the range {start}-{end} runs backwards"));
    }
    if end - start >= MAX_RANGE {
        return Err(format!(
            "`{whole}`: a range may hold at most {MAX_RANGE} ports"
        ));
    }
    Ok((start, end))
}

fn number(text: &str, whole: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{whole}`: `{text}` is not a port number (1-65535)"
        )),
    }
}

fn protocol(text: &str) -> Result<String, String> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Ok("TCP".into()),
        "udp" => Ok("UDP".into()),
        "sctp" => Ok("SCTP".into()),
        other => Err(format!("protocol `{other}` is not tcp, udp or sctp")),
    }
}

fn long_syntax(node: &Node, path: &str, r: &mut Reader) -> Option<Spec> {
    let mut container = None;
    let mut published = None;
    let mut proto = "TCP".to_string();
    let mut host_ip = false;
    let mut ignored = Vec::new();
    for (k, v) in r.map(node, path)? {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "target" => {
                let text = r.string(v, &kpath)?;
                container = number(&text, &text)
                    .map_err(|m| r.error(codes::INVALID_PORT, m, v, &kpath))
                    .ok();
            }
            "published" => {
                let text = r.string(v, &kpath)?;
                if !text.is_empty() {
                    published = range(&text, &text)
                        .map_err(|m| r.error(codes::INVALID_PORT, m, v, &kpath))
                        .ok();
                }
            }
            "protocol" => {
                let text = r.string(v, &kpath)?;
                proto = protocol(&text)
                    .map_err(|m| r.error(codes::INVALID_PORT, m, v, &kpath))
                    .ok()?;
            }
            "host_ip" => host_ip = true,
            "app_protocol" | "name" => {}
            _ => r.other_key(k, &kpath, keys::PORT, &mut ignored),
        }
    }
    r.diagnostics_from_not_translated(&ignored);
    let Some(target) = container else {
        r.error(
            codes::MISSING_KEY,
            "a port in long syntax needs `target:`",
            node,
            path,
        );
        return None;
    };
    if let Some((start, end)) = published
        && start != end
    {
        r.error(
            codes::INVALID_PORT,
            "a single target cannot be published on a range",
            node,
            path,
        );
        return None;
    }
    Some(Spec {
        container: (target, target),
        published,
        protocol: proto,
        host_ip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = (u32, u32, Option<(u32, u32)>, String);

    fn parse(text: &str) -> Result<Parsed, String> {
        short_syntax(text, true).map(|s| (s.container.0, s.container.1, s.published, s.protocol))
    }

    #[test]
    fn short_syntax_forms() {
        assert_eq!(parse("3000"), Ok((3000, 3000, None, "TCP".into())));
        assert_eq!(
            parse("8000:80"),
            Ok((80, 80, Some((8000, 8000)), "TCP".into()))
        );
        assert_eq!(
            parse("9090-9091:8080-8081"),
            Ok((8080, 8081, Some((9090, 9091)), "TCP".into()))
        );
        assert_eq!(
            parse("127.0.0.1:8001:8001"),
            Ok((8001, 8001, Some((8001, 8001)), "TCP".into()))
        );
        assert_eq!(
            parse("6060:6060/udp"),
            Ok((6060, 6060, Some((6060, 6060)), "UDP".into()))
        );
        assert_eq!(
            parse("[::1]:6001:6001"),
            Ok((6001, 6001, Some((6001, 6001)), "TCP".into()))
        );
        assert_eq!(parse(":8000"), Ok((8000, 8000, None, "TCP".into())));
    }

    #[test]
    fn short_syntax_errors() {
        for bad in [
            "0", "70000", "80:", "a:b", "1-2:3", "80/xyz", "5-1", "1-500", "1:2:3:4",
        ] {
            assert!(parse(bad).is_err(), "{bad} must be refused");
        }
        assert!(
            short_syntax("80:80", false).is_err(),
            "expose takes no published port"
        );
    }
}
