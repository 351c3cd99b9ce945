//! YAML syntax errors in words: what is wrong at the line, and what to do about it.
//!
//! The YAML parser reports what its grammar expected ("while parsing a block mapping, did not
//! find expected key"); people think in indentation, tabs, quotes and brackets. This module reads
//! the parser's text together with the lines around the error and says the likely cause as a
//! sentence with the next step, keeping the parser's own text at the end as the detail. It is the
//! one place these sentences are written, so the CLI, the server, the dashboard and the wasm
//! package all show the same words.

use crate::yaml::YamlError;

/// What opens the parser's own words at the end of a syntax error's message (closed by `)`).
const DETAIL_OPEN: &str = " (YAML parser: ";

/// The message for a YAML reader's finding: for a syntax error the parser found, a sentence and
/// the next step followed by the parser's text; otherwise the reader's own message.
pub fn message(e: &YamlError, text: &str) -> String {
    match &e.parser_text {
        Some(raw) => format!(
            "{}{DETAIL_OPEN}{raw})",
            explain(raw, text, e.line, e.column)
        ),
        None => e.message.clone(),
    }
}

/// A diagnostic's message split into what people read first and, for a YAML syntax error, the
/// parser's own words kept after it (a dashboard shows them as detail).
pub fn parser_detail(message: &str) -> (&str, Option<&str>) {
    match message
        .strip_suffix(')')
        .and_then(|m| m.split_once(DETAIL_OPEN))
    {
        Some((sentence, detail)) => (sentence, Some(detail)),
        None => (message, None),
    }
}

/// The sentence for the parser's error `raw` at 1-based `line` and `column` of `text`.
fn explain(raw: &str, text: &str, line: usize, column: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = |n: usize| n.checked_sub(1).and_then(|i| lines.get(i)).copied();
    let this_line = at(line).unwrap_or("");

    if raw.contains("tab") || leading(this_line).contains('\t') {
        return format!(
            "line {line} is indented with a tab; YAML indents with spaces only. Replace the tab with spaces (two per level is usual)"
        );
    }
    if raw.contains("quoted scalar") && !raw.contains("escape") && !raw.contains("hexadecimal") {
        let quote = char_at(this_line, column).filter(|c| *c == '"' || *c == '\'');
        let quote = quote.map_or("quote".to_string(), |q| format!("`{q}`"));
        return format!(
            "the {quote} opened at line {line}, column {column} is never closed. Add the closing {quote} at the end of the value"
        );
    }
    if raw.contains("escape") || raw.contains("hexadecimal") {
        return "this double-quoted string has a `\\` escape YAML does not know. Write `\\\\` for a backslash, or use single quotes, which take `\\` as it is".into();
    }
    if let Some((open, open_line, open_column)) = unclosed_bracket(&lines, line, column) {
        let close = if open == '[' { ']' } else { '}' };
        return format!(
            "the `{open}` opened at line {open_line}, column {open_column} is never closed. Add the closing `{close}`, or write the {} one entry per line",
            if open == '[' { "list" } else { "mapping" }
        );
    }
    if raw.contains("unknown anchor") {
        return "this `*name` refers to an anchor that is not defined above it. Define it first with `&name`, or check the spelling".into();
    }
    if raw.contains("block collection") && raw.contains("'-'") {
        return format!(
            "line {line} is not a list item, but the lines above it are: each item of a list starts with `- `. Start the line with `- `, or indent it less to end the list"
        );
    }
    let trimmed = this_line.trim_start();
    if raw.contains("block mapping") && (trimmed.starts_with("- ") || trimmed == "-") {
        return format!(
            "line {line} is a list item (`- …`) among the keys of a mapping. Put it under a key that takes a list, indented deeper than that key"
        );
    }
    if raw.contains("mapping values are not allowed") {
        return mapping_value_here(&lines, line);
    }
    if raw.contains("block mapping") || raw.contains("indentation") {
        return format!(
            "line {line} is not lined up with the keys above it: the keys of one mapping start in the same column. Indent it like the key it belongs beside"
        );
    }
    format!(
        "line {line} is not valid YAML. Check the indentation, quotes and brackets on this line and the one above"
    )
}

/// "mapping values are not allowed in this context": a `key:` where the parser is in a plain
/// value. Said after looking at what the line above (or this one) shows.
fn mapping_value_here(lines: &[&str], line: usize) -> String {
    let this_line = line.checked_sub(1).and_then(|i| lines.get(i)).copied();
    let this_line = this_line.unwrap_or("");
    let above = line
        .checked_sub(1)
        .map(|i| &lines[..i.min(lines.len())])
        .and_then(|before| {
            before
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .copied();
    if let Some(above) = above {
        let key_and_value = above.trim_start().trim_start_matches("- ");
        let glued = key_and_value.find(':').is_some_and(|i| {
            let after = &key_and_value[i + 1..];
            !after.is_empty() && !after.starts_with(' ') && !key_and_value.contains(": ")
        });
        if glued && leading(this_line).len() > leading(above).len() {
            return format!(
                "line {} has no space after its colon (`{}`), so the lines under it cannot be its value. Write a space after the colon",
                line - 1,
                key_and_value.trim_end()
            );
        }
        if leading(this_line).len() > leading(above).len() && above.trim_end().ends_with(':') {
            // Deeper under a `key:` is a nested mapping: the colon must be inside this line.
        } else if leading(this_line).len() > leading(above).len() {
            return format!(
                "line {line} is indented deeper than the line above it, which already has a value. Line it up with the keys above it, or move the value of the line above onto its own lines"
            );
        }
    }
    format!(
        "line {line} has a second `: ` inside a value. Put the value in quotes (for example `command: \"echo a: b\"`)"
    )
}

/// The spaces and tabs a line starts with.
fn leading(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The character at 1-based `column` of `line`.
fn char_at(line: &str, column: usize) -> Option<char> {
    line.chars().nth(column.checked_sub(1)?)
}

/// The innermost `[` or `{` opened before 1-based `line` and `column` and not closed by then,
/// with its own line and column (quotes and comments skipped, as the parser reads them).
fn unclosed_bracket(lines: &[&str], line: usize, column: usize) -> Option<(char, usize, usize)> {
    let mut open: Vec<(char, usize, usize)> = Vec::new();
    for (index, text) in lines.iter().enumerate().take(line) {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (c_index, c) in text.chars().enumerate() {
            if index + 1 == line && c_index + 1 >= column {
                break;
            }
            match (quote, c) {
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if previous == ' ' || "[{,:".contains(previous) => {
                    quote = Some(c)
                }
                (None, '#') if previous == ' ' || c_index == 0 => break,
                (None, '[' | '{') => open.push((c, index + 1, c_index + 1)),
                (None, ']' | '}') => {
                    open.pop();
                }
                _ => {}
            }
            previous = c;
        }
    }
    open.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> String {
        match crate::yaml::parse(text).0 {
            Err(e) => message(&e, text),
            Ok(_) => panic!("no syntax error in {text:?}"),
        }
    }

    #[test]
    fn a_bracket_in_a_quoted_string_is_not_counted() {
        let lines = ["a: \"[x\"", "b: [1, 2"];
        assert_eq!(unclosed_bracket(&lines, 3, 1), Some(('[', 2, 4)));
    }

    #[test]
    fn the_parser_text_stays_as_the_detail() {
        let m = words("a:\n\tb: 1\n");
        let (sentence, detail) = parser_detail(&m);
        assert!(sentence.starts_with("line 2 is indented with a tab"), "{m}");
        assert_eq!(
            detail,
            Some("tabs disallowed within this context (block indentation)")
        );
        assert_eq!(
            parser_detail("no detail (here)"),
            ("no detail (here)", None)
        );
    }
}
