//! What the API server checks on ConfigMaps and Secrets (keys, total size) and on the pod
//! volumes that project their keys (item paths and modes), with its messages.

use serde_json::Value;

use crate::status::Cause;

/// Kubernetes' limit on the data of one ConfigMap or Secret.
const MAX_BYTES: usize = 1024 * 1024;
const KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

fn key_errors(key: &str) -> Vec<&'static str> {
    let mut why = Vec::new();
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        why.push(KEY_MSG);
    }
    if key.len() > 253 {
        why.push("must be no more than 253 characters");
    }
    if key == "." || key == ".." || key.starts_with("..") {
        why.push("must not be '.' or '..' and must not start with '..'");
    }
    why
}

/// `data` and `binaryData` of a ConfigMap, or `data` and `stringData` of a Secret: valid keys,
/// none in both, at most 1 MiB together. `decoded` gives a value's size in bytes.
fn data(out: &mut Vec<Cause>, obj: &Value, fields: [&str; 2], decoded: [fn(&str) -> usize; 2]) {
    let mut total = 0;
    let mut seen: Vec<&str> = Vec::new();
    for (field, size) in fields.iter().zip(decoded) {
        let Some(map) = obj.get(*field).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in map {
            for why in key_errors(key) {
                out.push(Cause::invalid(format!("{field}[{key}]"), key, why));
            }
            if seen.contains(&key.as_str()) {
                out.push(Cause::invalid(
                    format!("{field}[{key}]"),
                    key,
                    "duplicate of key present in another field",
                ));
            }
            seen.push(key);
            total += value.as_str().map_or(0, size);
        }
    }
    if total > MAX_BYTES {
        out.push(Cause {
            field: fields[0].into(),
            reason: "FieldValueTooLong",
            detail: format!("Too long: must have at most {MAX_BYTES} bytes"),
        });
    }
}

fn base64_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|b| *b == b'=').count();
    (text.len() / 4) * 3 - padding.min(2)
}

pub(crate) fn config_map(out: &mut Vec<Cause>, obj: &Value) {
    data(out, obj, ["data", "binaryData"], [str::len, base64_len]);
}

pub(crate) fn secret(out: &mut Vec<Cause>, obj: &Value) {
    data(out, obj, ["data", "stringData"], [base64_len, str::len]);
}

/// The `items` of a pod volume's `configMap` or `secret`: each a key, at a relative path with
/// no `..`, with a mode of at most 0777.
pub(crate) fn volume_items(out: &mut Vec<Cause>, at: &str, volume: &Value) {
    for source in ["configMap", "secret"] {
        let Some(items) = volume
            .pointer(&format!("/{source}/items"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let field = format!("{at}.{source}.items[{i}]");
            let path = item.get("path").and_then(Value::as_str).unwrap_or("");
            if path.is_empty() {
                out.push(Cause::required(format!("{field}.path")));
            } else if path.starts_with('/') {
                out.push(Cause::invalid(
                    format!("{field}.path"),
                    path,
                    "must be a relative path",
                ));
            } else if path.split('/').any(|segment| segment == "..") {
                out.push(Cause::invalid(
                    format!("{field}.path"),
                    path,
                    "must not contain '..'",
                ));
            }
            if item
                .get("key")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                out.push(Cause::required(format!("{field}.key")));
            }
            if let Some(mode) = item.get("mode").and_then(Value::as_i64)
                && !(0..=0o777).contains(&mode)
            {
                out.push(Cause::invalid_num(
                    format!("{field}.mode"),
                    mode,
                    "must be a number between 0 and 0777 (octal), both inclusive",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn causes(check: fn(&mut Vec<Cause>, &Value), obj: Value) -> Vec<String> {
        let mut out = Vec::new();
        check(&mut out, &obj);
        out.into_iter().map(|c| c.detail).collect()
    }

    #[test]
    fn keys_and_sizes_are_checked_as_the_api_server_does() {
        assert!(
            causes(
                config_map,
                json!({"data": {"a.conf": "x"}, "binaryData": {"b": "AAE="}})
            )
            .is_empty()
        );
        let bad = causes(
            config_map,
            json!({"data": {"conf/a.conf": "x", "..x": "y"}}),
        );
        assert_eq!(bad.len(), 2, "{bad:?}");
        let both = causes(
            config_map,
            json!({"data": {"a": "x"}, "binaryData": {"a": "AA=="}}),
        );
        assert!(both[0].contains("duplicate of key"), "{both:?}");
        let big = "x".repeat(MAX_BYTES + 1);
        assert!(causes(config_map, json!({"data": {"a": big}}))[0].contains("Too long"));
        assert_eq!(base64_len("AAE="), 2);
        assert!(causes(secret, json!({"data": {"k": "AAE="}})).is_empty());
    }

    #[test]
    fn projected_items_stay_below_the_mount() {
        let mut out = Vec::new();
        volume_items(
            &mut out,
            "spec.volumes[0]",
            &json!({"configMap": {"name": "f", "items": [
                {"key": "a", "path": "ok/a"},
                {"key": "b", "path": "../b"},
                {"key": "c", "path": "/c"},
                {"key": "d", "path": "d", "mode": 4095}
            ]}}),
        );
        let messages: Vec<&str> = out.iter().map(|c| c.detail.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
    }
}
