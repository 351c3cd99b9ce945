//! Hostile inputs: nothing may panic, and each is refused with a clear error instead of
//! eating memory or time.

use tycho_compiler::{CompileOptions, codes, compile, decode};

fn first_error(text: &str) -> String {
    let compiled = compile(text, &CompileOptions::default());
    let error = compiled
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("hostile input must be refused");
    assert!(error.line >= 1, "error without a position: {error:?}");
    error.code.clone()
}

#[test]
fn billion_laughs() {
    let mut text = String::from(
        "x0: &x0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for i in 1..12 {
        let refs = vec![format!("*x{}", i - 1); 9].join(", ");
        text.push_str(&format!("x{i}: &x{i} [{refs}]\n"));
    }
    text.push_str("services:\n  web:\n    image: *x11\n");
    assert_eq!(first_error(&text), codes::ALIAS_EXPANSION);
}

#[test]
fn deep_flow_and_block_nesting() {
    let flow = format!("services: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(first_error(&flow), codes::NESTING_TOO_DEEP);
    let block: String = (0..200)
        .map(|depth| format!("{}k{depth}:\n", "  ".repeat(depth)))
        .collect();
    assert_eq!(first_error(&block), codes::NESTING_TOO_DEEP);
}

#[test]
fn ten_megabytes() {
    let text = format!(
        "services:\n  web:\n    image: \"{}\"\n",
        "a".repeat(10 * 1024 * 1024)
    );
    assert_eq!(first_error(&text), codes::INPUT_TOO_LARGE);
}

#[test]
fn many_small_values_are_bounded() {
    let text = format!(
        "services:\n  web:\n    image: a\n    command: [{}]\n",
        vec!["x"; 300_000].join(",")
    );
    assert_eq!(first_error(&text), codes::ALIAS_EXPANSION);
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let bytes = b"services:\n  web:\n    image: \xff\xfe\n";
    let error = decode(bytes).expect_err("not UTF-8");
    assert_eq!((error.line, error.column), (3, 12));
}

#[test]
fn binary_junk_never_panics() {
    // A fixed-seed xorshift generator: the same junk on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] = b"services:image: -[]{}&*!|>'\"#%@`,?\n\t $abc{}<<0123456789./";
    for round in 0..3000 {
        let len = (next() % 400) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if round % 3 == 0 {
                    next() as u8
                } else {
                    alphabet[(next() % alphabet.len() as u64) as usize]
                }
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let compiled = compile(&text, &CompileOptions::default());
        // YAML breaks lines at CR as well as LF.
        let breaks = text.chars().filter(|c| *c == '\n' || *c == '\r').count();
        for d in &compiled.diagnostics {
            assert!(d.line <= breaks + 2, "diagnostic beyond the text: {d:?}");
        }
    }
}

#[test]
fn weird_but_valid_yaml_is_fine() {
    let text = "services:\n  web: !!map\n    image: !!str nginx\n    ports: [ \"80\" , ]\n    x-note: |\n      multi\n      line\n";
    let compiled = compile(
        text,
        &CompileOptions {
            guid: "a".into(),
            ..Default::default()
        },
    );
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
}
