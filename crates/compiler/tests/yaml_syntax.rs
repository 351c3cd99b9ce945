//! YAML syntax errors in words: each common mistake gets a sentence that names the line and says
//! what to do, at the parser's line and column, with the parser's own text kept as the detail.

use tycho_compiler::{CompileOptions, codes, compile};

/// The one syntax error of `text`: its message, line and column.
fn syntax_error(text: &str) -> (String, usize, usize) {
    let compiled = compile(text, &CompileOptions::default());
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::YAML_SYNTAX)
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", compiled.diagnostics);
    (errors[0].message.clone(), errors[0].line, errors[0].column)
}

/// The sentence before the parser's detail.
fn sentence(message: &str) -> &str {
    message.split(" (YAML parser: ").next().unwrap_or(message)
}

#[test]
fn a_tab_in_the_indentation() {
    let (message, line, column) = syntax_error("services:\n  web:\n\timage: nginx\n");
    assert_eq!(
        sentence(&message),
        "line 3 is indented with a tab; YAML indents with spaces only. Replace the tab with spaces (two per level is usual)"
    );
    assert_eq!((line, column), (3, 2));
    assert!(
        message.contains("(YAML parser: tabs disallowed"),
        "{message}"
    );
}

#[test]
fn a_key_indented_less_than_its_neighbours() {
    let (message, line, column) =
        syntax_error("services:\n  web:\n    image: nginx\n   ports:\n      - 80\n");
    assert_eq!(
        sentence(&message),
        "line 4 is not lined up with the keys above it: the keys of one mapping start in the same column. Indent it like the key it belongs beside"
    );
    assert_eq!((line, column), (4, 4));
}

#[test]
fn a_key_indented_deeper_under_a_value() {
    let (message, line, _) =
        syntax_error("services:\n  web:\n    image: nginx\n      ports: [80]\n");
    assert_eq!(
        sentence(&message),
        "line 4 is indented deeper than the line above it, which already has a value. Line it up with the keys above it, or move the value of the line above onto its own lines"
    );
    assert_eq!(line, 4);
}

#[test]
fn no_space_after_a_colon() {
    let (message, line, _) = syntax_error("services:\n  web:\n    image:nginx\n      tty: true\n");
    assert_eq!(
        sentence(&message),
        "line 3 has no space after its colon (`image:nginx`), so the lines under it cannot be its value. Write a space after the colon"
    );
    assert_eq!(line, 4);
}

#[test]
fn a_colon_inside_a_plain_value() {
    let (message, line, column) = syntax_error("services:\n  web:\n    command: echo a: b\n");
    assert_eq!(
        sentence(&message),
        "line 3 has a second `: ` inside a value. Put the value in quotes (for example `command: \"echo a: b\"`)"
    );
    assert_eq!((line, column), (3, 20));
}

#[test]
fn an_unclosed_double_quote() {
    let (message, line, column) =
        syntax_error("services:\n  web:\n    image: \"nginx\n    ports: []\n");
    assert_eq!(
        sentence(&message),
        "the `\"` opened at line 3, column 12 is never closed. Add the closing `\"` at the end of the value"
    );
    assert_eq!((line, column), (3, 12));
}

#[test]
fn an_unclosed_single_quote() {
    let (message, ..) = syntax_error("services:\n  web:\n    image: 'nginx\n");
    assert_eq!(
        sentence(&message),
        "the `'` opened at line 3, column 12 is never closed. Add the closing `'` at the end of the value"
    );
}

#[test]
fn an_unclosed_bracket() {
    let (message, line, column) =
        syntax_error("services:\n  web:\n    ports: [80, 81\n    image: nginx\n");
    assert_eq!(
        sentence(&message),
        "the `[` opened at line 3, column 12 is never closed. Add the closing `]`, or write the list one entry per line"
    );
    assert_eq!((line, column), (4, 10));
}

#[test]
fn an_unclosed_brace_at_the_end_of_the_file() {
    let (message, line, _) = syntax_error("services:\n  web: {image: nginx\n");
    assert_eq!(
        sentence(&message),
        "the `{` opened at line 2, column 8 is never closed. Add the closing `}`, or write the mapping one entry per line"
    );
    assert_eq!(line, 3);
}

#[test]
fn a_key_where_a_list_item_is_expected() {
    let (message, line, column) = syntax_error(
        "services:\n  web:\n    image: nginx\n    ports:\n      - 80\n      host: 8080\n",
    );
    assert_eq!(
        sentence(&message),
        "line 6 is not a list item, but the lines above it are: each item of a list starts with `- `. Start the line with `- `, or indent it less to end the list"
    );
    assert_eq!((line, column), (6, 7));
}

#[test]
fn a_list_item_among_mapping_keys() {
    let (message, line, _) = syntax_error("services:\n  web:\n    image: nginx\n    - 80\n");
    assert_eq!(
        sentence(&message),
        "line 4 is a list item (`- …`) among the keys of a mapping. Put it under a key that takes a list, indented deeper than that key"
    );
    assert_eq!(line, 4);
}

#[test]
fn an_alias_to_no_anchor() {
    let (message, ..) = syntax_error("services:\n  web: *base\n");
    assert_eq!(
        sentence(&message),
        "this `*name` refers to an anchor that is not defined above it. Define it first with `&name`, or check the spelling"
    );
}

#[test]
fn a_duplicate_key_says_what_to_do() {
    let compiled = compile(
        "services:\n  web:\n    image: a\n    image: b\n",
        &CompileOptions::default(),
    );
    let duplicate = compiled
        .diagnostics
        .iter()
        .find(|d| d.code == codes::DUPLICATE_KEY)
        .expect("a duplicate-key error");
    assert_eq!(
        duplicate.message,
        "duplicate key `image` (first defined at line 3): a key is written once per mapping; remove one of the two"
    );
    assert_eq!((duplicate.line, duplicate.column), (4, 5));
}

#[test]
fn the_policy_reader_uses_the_same_words() {
    let error = tycho_compiler::parse_policy("quota:\n\tcpu: 1\n").expect_err("a tab");
    assert!(
        error.starts_with("2:2: line 2 is indented with a tab"),
        "{error}"
    );
}
