//! A file's own, shorter lifetimes (`x-tycho: {lifetime: …}`, issue 14 item 4: per catalog
//! entry): read strictly, written on the Deployment for the server's lifetime task.

mod common;

use common::{errors, only_error, options};
use tycho_compiler::codes;

#[test]
fn the_files_lifetimes_go_on_the_deployment() {
    let text = "x-tycho:\n  lifetime:\n    idle_timeout: 30m\n    max_lifetime: 1d\nservices:\n  web:\n    image: nginx\n";
    let compiled = tycho_compiler::compile(text, &options());
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    let plan = compiled.plan.expect("a plan");
    let annotations = plan.deployment.metadata.annotations.expect("annotations");
    let lifetime: serde_json::Value =
        serde_json::from_str(&annotations[tycho_compiler::labels::ANNOTATION_LIFETIME])
            .expect("JSON");
    assert_eq!(
        lifetime,
        serde_json::json!({"idle_timeout": "30m", "max_lifetime": "1d"})
    );
    // Without the block, no annotation.
    let plain = tycho_compiler::compile("services:\n  web:\n    image: nginx\n", &options());
    let annotations = plain.plan.expect("a plan").deployment.metadata.annotations;
    assert!(
        annotations.is_some_and(|a| !a.contains_key(tycho_compiler::labels::ANNOTATION_LIFETIME))
    );
}

#[test]
fn bad_lifetimes_are_errors_where_they_are_written() {
    only_error(
        "x-tycho:\n  lifetime:\n    idle_timeout: soon\nservices:\n  web:\n    image: nginx\n",
        codes::INVALID_VALUE,
        3,
        19,
        "is not a duration",
    );
    let unknown =
        errors("x-tycho:\n  lifetime:\n    idle: 1h\nservices:\n  web:\n    image: nginx\n");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!((unknown[0].1, unknown[0].2), (3, 5), "{unknown:?}");
}
