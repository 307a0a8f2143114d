//! The IGF report as an OpenDocument text file (`.odt`), from its Markdown: a tiny template,
//! written here, of the parts ODF 1.3 requires (an uncompressed `mimetype` first, the manifest,
//! `content.xml`), zipped with the `zip` crate (stored, no compression). The Markdown's subset
//! the reports use maps one to one: `#` headings, paragraphs, `- ` items, `|` tables; inline
//! code marks and a paragraph in `_…_` lose their marks, so the document's text is the
//! Markdown's text.

use std::io::Write as _;

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3"><office:body><office:text>"#;
const TAIL: &str = "</office:text></office:body></office:document-content>\n";

/// The media type of an `.odt`.
pub const MEDIA_TYPE: &str = "application/vnd.oasis.opendocument.text";

/// XML text: the five escapes, and characters XML 1.0 cannot carry dropped (the core refuses
/// them in text anyway).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A line's text without the Markdown's inline marks (and without the escape of a line that
/// would otherwise read as a heading: `\## …`, as the console writes a box's line).
pub fn plain(line: &str) -> String {
    let t = line.trim().replace('`', "");
    let t = match t.strip_prefix("\\#") {
        Some(rest) => format!("#{rest}"),
        None => t,
    };
    match t.strip_prefix('_').and_then(|r| r.strip_suffix('_')) {
        Some(inner) if !inner.is_empty() => inner.to_owned(),
        _ => t,
    }
}

/// One block of the reports' Markdown, its text without marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#`…: its level and text.
    Heading(usize, String),
    /// A paragraph line.
    Para(String),
    /// Consecutive `- ` items.
    List(Vec<String>),
    /// A `|` table's rows (rules left out), each padded to the widest.
    Table(Vec<Vec<String>>),
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim().trim_start_matches('|').trim_end_matches('|');
    t.split('|').map(plain).collect()
}

fn is_rule(line: &str) -> bool {
    line.trim().starts_with('|')
        && line
            .trim()
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// The blocks of `markdown`, in order.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('#') {
            let level = t.chars().take_while(|&c| c == '#').count();
            out.push(Block::Heading(level, plain(t.trim_start_matches('#'))));
        } else if let Some(item) = t.strip_prefix("- ") {
            let mut items = vec![plain(item)];
            while let Some(next) = lines.peek().and_then(|l| l.trim().strip_prefix("- ")) {
                items.push(plain(next));
                lines.next();
            }
            out.push(Block::List(items));
        } else if t.starts_with('|') {
            let mut rows = vec![cells(t)];
            while let Some(next) = lines.peek().filter(|l| l.trim().starts_with('|')) {
                if !is_rule(next) {
                    rows.push(cells(next));
                }
                lines.next();
            }
            let width = rows.iter().map(Vec::len).max().unwrap_or(1);
            for row in &mut rows {
                row.resize(width, String::new());
            }
            out.push(Block::Table(rows));
        } else {
            out.push(Block::Para(plain(t)));
        }
    }
    out
}

/// `content.xml` for `markdown`.
pub fn content(markdown: &str) -> String {
    let mut x = String::from(HEAD);
    let p = |t: &str| format!("<text:p>{}</text:p>", escape(t));
    for (n, block) in blocks(markdown).into_iter().enumerate() {
        match block {
            Block::Heading(level, text) => {
                x += &format!(
                    "<text:h text:outline-level=\"{level}\">{}</text:h>",
                    escape(&text)
                );
            }
            Block::Para(text) => x += &p(&text),
            Block::List(items) => {
                x += "<text:list>";
                for item in items {
                    x += &format!("<text:list-item>{}</text:list-item>", p(&item));
                }
                x += "</text:list>";
            }
            Block::Table(rows) => {
                let width = rows.first().map_or(1, Vec::len);
                x += &format!(
                    "<table:table table:name=\"Table{n}\"><table:table-column table:number-columns-repeated=\"{width}\"/>"
                );
                for row in rows {
                    x += "<table:table-row>";
                    for cell in row {
                        x += &format!(
                            "<table:table-cell office:value-type=\"string\">{}</table:table-cell>",
                            p(&cell)
                        );
                    }
                    x += "</table:table-row>";
                }
                x += "</table:table>";
            }
        }
    }
    x + TAIL
}

/// The `.odt` file of `markdown`.
pub fn odt(markdown: &str) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    // Writing to memory cannot fail short of allocation; the parts are fixed and few.
    let parts = [
        ("mimetype", MEDIA_TYPE.to_owned()),
        ("META-INF/manifest.xml", MANIFEST.to_owned()),
        ("content.xml", content(markdown)),
    ];
    for (name, body) in parts {
        if zip.start_file(name, stored).is_ok() {
            zip.write_all(body.as_bytes()).ok();
        }
    }
    zip.finish()
        .map(std::io::Cursor::into_inner)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_maps_to_headings_lists_tables_and_paragraphs() {
        let x = content(
            "# A & B\n\n- one\n- `two`\n\n| a | b |\n|---:|---:|\n| 1 | <2> |\n\n_To do._\n",
        );
        assert!(x.contains("<text:h text:outline-level=\"1\">A &amp; B</text:h>"));
        assert!(x.contains("<text:list-item><text:p>two</text:p></text:list-item>"));
        assert!(x.contains("<table:table-cell office:value-type=\"string\"><text:p>&lt;2&gt;</text:p></table:table-cell>"));
        assert!(x.contains("<text:p>To do.</text:p>"));
        assert!(!x.contains("---"));
        // A box's line escaped so as not to start a section reads as written.
        let escaped = content("Text\n\\## Making progress is hard\n");
        assert!(
            escaped.contains("<text:p>## Making progress is hard</text:p>"),
            "{escaped}"
        );
        let file = odt("# Hi\n");
        assert_eq!(&file[..2], b"PK");
        // The mimetype is the first entry, stored: its bytes sit at a fixed offset.
        assert_eq!(&file[30..38], b"mimetype");
        assert_eq!(&file[38..38 + MEDIA_TYPE.len()], MEDIA_TYPE.as_bytes());
        let long = "| a | b |\n".repeat(2_000);
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(odt(&long))).unwrap();
        assert_eq!(zip.len(), 3);
        assert!(zip.by_name("content.xml").unwrap().size() > 10_000);
    }
}
