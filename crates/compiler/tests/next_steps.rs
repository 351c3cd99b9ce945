//! Diagnostics that say what to do (issue 13, item 6): each names the cause a user can act on,
//! at its line and column.

use tycho_compiler::{CompileOptions, Diagnostic, codes, compile};

/// The errors of `text` as (code, line, column, message).
fn errors(text: &str) -> Vec<(String, usize, usize, String)> {
    let options = CompileOptions {
        guid: "abc".into(),
        ..Default::default()
    };
    compile(text, &options)
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .map(|d| (d.code, d.line, d.column, d.message))
        .collect()
}

#[track_caller]
fn only_error(text: &str, code: &str, line: usize, column: usize, says: &str) {
    let errors = errors(text);
    assert!(
        matches!(errors.as_slice(), [(c, l, col, m)] if c == code && (*l, *col) == (line, column) && m.contains(says)),
        "expected only {code} at {line}:{column} saying {says:?}, got {errors:#?}"
    );
}

#[test]
fn a_version_one_file_is_told_to_nest_its_services() {
    only_error(
        "web:\n  image: nginx\ndb:\n  build: .\n",
        codes::MISSING_KEY,
        1,
        1,
        "version-1 compose file: its services (`web`, `db`) sit at the top level; nest them under `services:`",
    );
}

#[test]
fn windows_host_paths_are_named_as_such() {
    only_error(
        "services:\n  web:\n    image: a\n    volumes:\n      - C:\\data:/data:ro\n",
        codes::INVALID_VOLUME,
        5,
        9,
        "`C:\\data` is a Windows path",
    );
}

#[test]
fn a_cpu_amount_below_one_millicpu_is_below_the_step() {
    only_error(
        "services:\n  web:\n    image: a\n    cpus: 0.0001\n",
        codes::INVALID_QUANTITY,
        4,
        11,
        "below Kubernetes' smallest step, 1m",
    );
    // Not a number at all keeps the plain message.
    only_error(
        "services:\n  web:\n    image: a\n    cpus: lots\n",
        codes::INVALID_QUANTITY,
        4,
        11,
        "is not a CPU amount",
    );
}

#[test]
fn an_empty_value_names_the_variable_that_emptied_it() {
    only_error(
        "services:\n  web:\n    image: \"${IMAGE}\"\n",
        codes::INVALID_VALUE,
        3,
        12,
        "has an empty `image` (`IMAGE` not set, so empty here)",
    );
    // An error at a value no variable touched says nothing about variables.
    let errors =
        errors("services:\n  web:\n    image: \"\"\n    environment:\n      A: ${UNSET}\n");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(!errors[0].3.contains("not set"), "{errors:#?}");
}
