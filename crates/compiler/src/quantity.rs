//! Sizes, CPU amounts and durations: compose's spellings in, Kubernetes quantities out.

const KI: u64 = 1024;

/// CPUs as compose writes them (`0.5`, `"1.5"`, or a Kubernetes `500m`) → millicores.
pub fn parse_cpus(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Some(milli) = text.strip_suffix('m') {
        return milli.parse::<u64>().ok().filter(|m| *m > 0);
    }
    let cpus: f64 = text.parse().ok()?;
    if !cpus.is_finite() || cpus <= 0.0 || cpus > 1e6 {
        return None;
    }
    let milli = (cpus * 1000.0).round() as u64;
    (milli > 0).then_some(milli)
}

/// Memory as compose writes it (Docker's units, powers of 1024: `512m`, `2g`, `1.5GB`, `4Gi`,
/// plain bytes) → bytes.
pub fn parse_compose_bytes(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let number_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(number_end);
    let value: f64 = number.parse().ok()?;
    let unit = unit.trim_start();
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let multiplier = match unit {
        "" => 1,
        "k" => KI,
        "m" => KI.pow(2),
        "g" => KI.pow(3),
        "t" => KI.pow(4),
        "p" => KI.pow(5),
        _ => return None,
    };
    let bytes = value * multiplier as f64;
    (bytes.is_finite() && (1.0..1e19).contains(&bytes)).then(|| bytes.round() as u64)
}

/// A Kubernetes memory quantity (`256Mi`, `1G`, `1e9`, `1000`) → bytes.
pub fn parse_kube_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let suffixes: [(&str, u64); 10] = [
        ("Ki", KI),
        ("Mi", KI.pow(2)),
        ("Gi", KI.pow(3)),
        ("Ti", KI.pow(4)),
        ("Pi", KI.pow(5)),
        ("k", 1000),
        ("M", 1000u64.pow(2)),
        ("G", 1000u64.pow(3)),
        ("T", 1000u64.pow(4)),
        ("P", 1000u64.pow(5)),
    ];
    for (suffix, multiplier) in suffixes {
        if let Some(number) = text.strip_suffix(suffix) {
            let value: f64 = number.parse().ok()?;
            return (value.is_finite() && value > 0.0)
                .then(|| (value * multiplier as f64).round() as u64);
        }
    }
    let value: f64 = text.parse().ok()?;
    (value.is_finite() && value > 0.0 && value < 1e19).then(|| value.round() as u64)
}

/// Millicores → a Kubernetes CPU quantity (`2`, `500m`).
pub fn format_cpu(milli: u64) -> String {
    if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// Bytes → a Kubernetes memory quantity in the largest binary unit that divides it.
pub fn format_bytes(bytes: u64) -> String {
    for (suffix, size) in [
        ("Ti", KI.pow(4)),
        ("Gi", KI.pow(3)),
        ("Mi", KI.pow(2)),
        ("Ki", KI),
    ] {
        if bytes.is_multiple_of(size) {
            return format!("{}{suffix}", bytes / size);
        }
    }
    bytes.to_string()
}

/// A compose duration (`1m30s`, `10s`, `500ms`, `2h`) → whole seconds, rounded up.
pub fn parse_duration_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total_ms: f64 = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return None;
        }
        let value: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let ms = match unit {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" | "" => 1000.0,
            "ms" => 1.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        total_ms += value * ms;
    }
    Some((total_ms / 1000.0).ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus() {
        assert_eq!(parse_cpus("0.60"), Some(600));
        assert_eq!(parse_cpus("0.01"), Some(10));
        assert_eq!(parse_cpus("7.5"), Some(7500));
        assert_eq!(parse_cpus("250m"), Some(250));
        assert_eq!(parse_cpus("0"), None);
        assert_eq!(parse_cpus("-1"), None);
        assert_eq!(parse_cpus("lots"), None);
        assert_eq!(format_cpu(7500), "7500m");
        assert_eq!(format_cpu(2000), "2");
    }

    #[test]
    fn compose_memory_uses_powers_of_1024() {
        assert_eq!(parse_compose_bytes("5000M"), Some(5000 * KI * KI));
        assert_eq!(parse_compose_bytes("27G"), Some(27 * KI.pow(3)));
        assert_eq!(parse_compose_bytes("4Gi"), Some(4 * KI.pow(3)));
        assert_eq!(parse_compose_bytes("1.5gb"), Some(3 * KI.pow(3) / 2));
        assert_eq!(parse_compose_bytes("1024"), Some(1024));
        assert_eq!(parse_compose_bytes("12 parsecs"), None);
        assert_eq!(format_bytes(5000 * KI * KI), "5000Mi");
        assert_eq!(format_bytes(27 * KI.pow(3)), "27Gi");
        assert_eq!(format_bytes(1000), "1000");
    }

    #[test]
    fn kube_memory() {
        assert_eq!(parse_kube_bytes("256Mi"), Some(256 * KI * KI));
        assert_eq!(parse_kube_bytes("1G"), Some(1_000_000_000));
        assert_eq!(parse_kube_bytes("32Gi"), Some(32 * KI.pow(3)));
        assert_eq!(parse_kube_bytes("x"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_seconds("1m30s"), Some(90));
        assert_eq!(parse_duration_seconds("10s"), Some(10));
        assert_eq!(parse_duration_seconds("500ms"), Some(1));
        assert_eq!(parse_duration_seconds("2h"), Some(7200));
        assert_eq!(parse_duration_seconds("soon"), None);
        assert_eq!(parse_duration_seconds("5x"), None);
    }
}
