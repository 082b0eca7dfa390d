//! Indenting JSON text for people, without parsing it into a tree: members keep the order and the
//! spelling (escapes included) the token has, which is what a learner wants to see, and the binary
//! carries no generic JSON value type just for display.

/// `json` indented by two spaces per level, each line prefixed with `margin`. The caller has checked
/// that `json` is valid JSON; outside strings only structure and whitespace need handling.
pub fn indent(json: &str, margin: &str) -> String {
    let mut out = String::from(margin);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(margin);
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                // `{}` and `[]` stay on one line.
                if let Some(&close @ ('}' | ']')) = chars.peek() {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_indented_in_their_own_order() {
        assert_eq!(
            indent(r#"{"typ":"JWT","alg":"HS256"}"#, "  "),
            "  {\n    \"typ\": \"JWT\",\n    \"alg\": \"HS256\"\n  }\n"
        );
    }

    #[test]
    fn nesting_arrays_and_empty_containers() {
        assert_eq!(
            indent(
                r#"{"aud":["a","b"],"x":{},"y":[ ],"n":-1.5e3,"t":true}"#,
                ""
            ),
            "{\n  \"aud\": [\n    \"a\",\n    \"b\"\n  ],\n  \"x\": {},\n  \"y\": [],\n  \"n\": -1.5e3,\n  \"t\": true\n}\n"
        );
    }

    #[test]
    fn strings_are_copied_as_written() {
        // Structure characters, escaped quotes and backslashes inside strings are left alone.
        let json = r#"{"k":"a,b:{c}[d] \"q\" \\","u":"\u0062"}"#;
        assert_eq!(
            indent(json, ""),
            "{\n  \"k\": \"a,b:{c}[d] \\\"q\\\" \\\\\",\n  \"u\": \"\\u0062\"\n}\n"
        );
    }

    #[test]
    fn whitespace_outside_strings_is_replaced() {
        assert_eq!(
            indent("{ \"a\" :\r\n 1 ,\t\"b\" : \" x \" }", ""),
            "{\n  \"a\": 1,\n  \"b\": \" x \"\n}\n"
        );
        assert_eq!(indent("7", "> "), "> 7\n");
    }
}
