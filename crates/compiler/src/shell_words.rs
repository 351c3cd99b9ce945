//! Splits a command string into words the way a POSIX shell would (quotes and backslashes),
//! as compose does for string-form `command` and `entrypoint`.

/// Returns the words, or the character offset of an unterminated quote.
pub fn split(input: &str) -> Result<Vec<String>, usize> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = input.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, ch)) => word.push(ch),
                        None => return Err(at),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, ch @ ('"' | '\\' | '$' | '`'))) => word.push(ch),
                            Some((_, ch)) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err(at),
                        },
                        Some((_, ch)) => word.push(ch),
                        None => return Err(at),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some((_, ch)) = chars.next() {
                    word.push(ch);
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split("start.sh jupyter lab --LabApp.token=").unwrap(),
            ["start.sh", "jupyter", "lab", "--LabApp.token="]
        );
        assert_eq!(
            split(r#"sh -c "echo 'hi there'""#).unwrap(),
            ["sh", "-c", "echo 'hi there'"]
        );
        assert_eq!(split(r"a\ b ''").unwrap(), ["a b", ""]);
        assert_eq!(split("   ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn reports_unterminated_quotes() {
        assert_eq!(split("echo 'oops"), Err(5));
        assert_eq!(split("x \"y"), Err(2));
    }
}
