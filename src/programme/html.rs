//! The IGF report as a printable HTML page, from the same blocks as its OpenDocument file
//! ([`super::odt::blocks`]): well-formed XHTML-compatible markup with the consoles' stylesheet,
//! no script, so the browser's Print makes the paper copy.

use super::odt::{Block, blocks, escape};

/// The page for `markdown`, titled `title`.
pub fn page(title: &str, markdown: &str) -> String {
    let mut x = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/assets/css/rostrum.css\"/></head>\
         <body class=\"page-report\"><main class=\"report\">",
        escape(title)
    );
    for block in blocks(markdown) {
        match block {
            Block::Heading(level, text) => {
                let level = level.clamp(1, 6);
                x += &format!("<h{level}>{}</h{level}>", escape(&text));
            }
            Block::Para(text) => x += &format!("<p>{}</p>", escape(&text)),
            Block::List(items) => {
                x += "<ul>";
                for item in items {
                    x += &format!("<li>{}</li>", escape(&item));
                }
                x += "</ul>";
            }
            Block::Table(rows) => {
                x += "<table>";
                for (i, row) in rows.iter().enumerate() {
                    x += "<tr>";
                    let tag = if i == 0 { "th" } else { "td" };
                    let scope = if i == 0 { " scope=\"col\"" } else { "" };
                    for cell in row {
                        x += &format!("<{tag}{scope}>{}</{tag}>", escape(cell));
                    }
                    x += "</tr>";
                }
                x += "</table>";
            }
        }
    }
    x + "</main></body></html>\n"
}
