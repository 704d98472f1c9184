//! The repository documents itself: every relative link in its Markdown resolves inside the
//! repository (file, and heading when the link names one), and every README code block marked
//! `<!-- include: path#region -->` is exactly the lines between `// readme:start region` and
//! `// readme:end region` of that file.
//!
//! `VAULT_BLESS_DOCS=1 cargo test -p vault-core --test repository_docs` rewrites the included
//! blocks from their files instead of failing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("vault-core lives in the workspace")
        .to_path_buf()
}

/// The documentation users read: the top-level Markdown files, `docs/` and the benchmark results.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![
        root.join("README.md"),
        root.join("CONTRIBUTING.md"),
        root.join("benches/RESULTS.md"),
    ];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("readable docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Lines outside fenced code blocks, with inline code spans blanked out.
fn prose_lines(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut out = String::with_capacity(line.len());
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            }
            out.push(if in_code { ' ' } else { c });
        }
        lines.push(out);
    }
    lines
}

/// Targets of inline links `[text](target)` in `text`'s prose.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchors for the headings of a Markdown text.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut set = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#').trim();
        let slug: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        set.insert(slug);
    }
    set
}

fn is_external(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:")
}

#[test]
fn relative_links_resolve() {
    let root = root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("readable document");
        for target in link_targets(&text) {
            if is_external(&target) {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                doc.clone()
            } else {
                doc.parent().expect("a document has a folder").join(path)
            };
            let shown = doc
                .strip_prefix(&root)
                .unwrap_or(&doc)
                .display()
                .to_string();
            let Ok(file) = file.canonicalize() else {
                broken.push(format!("{shown}: {target} (no such file)"));
                continue;
            };
            if !file.starts_with(&root) {
                broken.push(format!("{shown}: {target} (outside the repository)"));
                continue;
            }
            if let Some(anchor) = anchor {
                let headings = std::fs::read_to_string(&file)
                    .map(|text| anchors(&text))
                    .unwrap_or_default();
                if !headings.contains(anchor) {
                    broken.push(format!("{shown}: {target} (no heading #{anchor})"));
                }
            }
        }
    }
    assert!(checked > 0, "no relative links found: the parser is broken");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The lines between `// readme:start {region}` and `// readme:end {region}` in `file`, with
/// their common indentation removed.
fn region(file: &Path, region: &str) -> String {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", file.display()));
    let start = format!("// readme:start {region}");
    let end = format!("// readme:end {region}");
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|line| line.trim() != start)
        .skip(1)
        .take_while(|line| line.trim() != end)
        .collect();
    assert!(
        !lines.is_empty(),
        "{} has no non-empty region `{region}`",
        file.display()
    );
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|line| line.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn included_code_blocks_are_the_files_content() {
    let root = root();
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md is readable");
    let bless = std::env::var_os("VAULT_BLESS_DOCS").is_some();
    let mut out: Vec<String> = Vec::new();
    let mut stale = Vec::new();
    let mut includes = 0;
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        out.push(line.to_string());
        let Some(spec) = line
            .trim()
            .strip_prefix("<!-- include:")
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            continue;
        };
        includes += 1;
        let (path, name) = spec
            .trim()
            .split_once('#')
            .expect("an include names `path#region`");
        let expected = region(&root.join(path), name);
        let fence = lines.next().expect("a code block follows an include");
        assert!(
            fence.starts_with("```"),
            "a code block follows the include of {spec}"
        );
        out.push(fence.to_string());
        let mut actual = Vec::new();
        for body in lines.by_ref() {
            if body.starts_with("```") {
                break;
            }
            actual.push(body);
        }
        if actual.join("\n") != expected {
            stale.push(format!(
                "README.md's block for {spec} differs from the file; expected:\n{expected}"
            ));
        }
        out.push(expected);
        out.push("```".to_string());
    }
    assert!(includes > 0, "README.md includes no code from the examples");
    if bless && !stale.is_empty() {
        let mut text = out.join("\n");
        text.push('\n');
        std::fs::write(&readme_path, text).expect("README.md is writable");
        return;
    }
    assert!(
        stale.is_empty(),
        "{}\n(VAULT_BLESS_DOCS=1 rewrites them)",
        stale.join("\n\n")
    );
}

#[test]
fn the_link_parser_sees_links_and_skips_code() {
    let text = "see [a](docs/a.md) and [b](#usage \"t\")\n`[c](no.md)`\n```\n[d](no.md)\n```\n";
    assert_eq!(link_targets(text), ["docs/a.md", "#usage"]);
    assert!(anchors("## Tests and benchmarks\n").contains("tests-and-benchmarks"));
    assert!(anchors("# Vault's architecture\n").contains("vaults-architecture"));
}
