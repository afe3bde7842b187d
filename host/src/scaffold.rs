//! `forecourt plugin new`: a working plugin project to start from, with a
//! manifest, acceptance fixtures and a README, in Rust, Python or
//! JavaScript. The templates are compiled into the binary
//! (`host/src/scaffold/templates/`).

use crate::cli::{ConfigError, EXIT_OK};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

/// The plugin's world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// A listing platform (`listing-platform`).
    Platform,
    /// A DMS source (`dms-source`).
    Source,
}

/// The language of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with the forecourt SDK (`cargo build --target wasm32-wasip2`).
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with componentize-js.
    Js,
}

/// `forecourt plugin new`
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The plugin id: lower-case letters, digits and dashes (`acme-motors`).
    pub name: String,
    /// Platform or source.
    #[arg(long, value_enum, default_value_t = Kind::Platform)]
    pub kind: Kind,
    /// The language.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Where to create the project (default: `./<name>`); must not exist or be empty.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Rust: depend on the forecourt SDK at this path instead of the published crate.
    #[arg(long)]
    pub sdk_path: Option<PathBuf>,
}

const RUST_PLATFORM: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("scaffold/templates/rust-platform/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("scaffold/templates/rust-platform/lib.rs"),
    ),
    (
        "forecourt.toml",
        include_str!("scaffold/templates/rust-platform/forecourt.toml"),
    ),
    (
        "README.md",
        include_str!("scaffold/templates/README-rust.md"),
    ),
];
const RUST_SOURCE: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("scaffold/templates/rust-source/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("scaffold/templates/rust-source/lib.rs"),
    ),
    (
        "forecourt.toml",
        include_str!("scaffold/templates/rust-source/forecourt.toml"),
    ),
    (
        "README.md",
        include_str!("scaffold/templates/README-rust.md"),
    ),
];
const PYTHON_PLATFORM: &[(&str, &str)] = &[
    (
        "app.py",
        include_str!("scaffold/templates/python-platform/app.py"),
    ),
    (
        "forecourt.toml",
        include_str!("scaffold/templates/python-platform/forecourt.toml"),
    ),
    (
        "README.md",
        include_str!("scaffold/templates/README-python.md"),
    ),
];
const JS_PLATFORM: &[(&str, &str)] = &[
    (
        "app.js",
        include_str!("scaffold/templates/js-platform/app.js"),
    ),
    (
        "build.mjs",
        include_str!("../../plugins/examples/js-feed/build.mjs"),
    ),
    (
        "forecourt.toml",
        include_str!("scaffold/templates/js-platform/forecourt.toml"),
    ),
    ("README.md", include_str!("scaffold/templates/README-js.md")),
];

/// The files of a new project: relative path and contents.
pub fn render(args: &NewArgs) -> Result<Vec<(PathBuf, String)>, ConfigError> {
    let name = &args.name;
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || name.starts_with('-')
    {
        return Err(ConfigError(format!(
            "`{name}` is not a plugin id: use 1 to 64 lower-case letters, digits and dashes"
        )));
    }
    let templates = match (args.kind, args.lang) {
        (Kind::Platform, Lang::Rust) => RUST_PLATFORM,
        (Kind::Source, Lang::Rust) => RUST_SOURCE,
        (Kind::Platform, Lang::Python) => PYTHON_PLATFORM,
        (Kind::Platform, Lang::Js) => JS_PLATFORM,
        (Kind::Source, lang) => {
            return Err(ConfigError(format!(
                "there is no {lang:?} template for a source yet: start from `--lang rust --kind source`, or from a platform template and the `dms-source` world in wit/source.wit (docs/plugins.md)"
            )))
        }
    };
    let crate_name = format!("forecourt-plugin-{name}");
    let sdk = match &args.sdk_path {
        Some(path) => format!(
            "forecourt-sdk = {{ path = {} }}",
            toml::Value::String(path.display().to_string())
        ),
        None => format!("forecourt-sdk = \"{}\"", env!("CARGO_PKG_VERSION")),
    };
    let kind = match args.kind {
        Kind::Platform => "platform",
        Kind::Source => "source",
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{crate_file}}", &crate_name.replace('-', "_"))
            .replace("{{sdk_dependency}}", &sdk)
            .replace("{{contract}}", crate::contract::CURRENT)
            .replace("{{kind}}", kind)
    };
    let mut files: Vec<(PathBuf, String)> = templates
        .iter()
        .map(|(path, text)| (PathBuf::from(path), fill(text)))
        .collect();
    if args.kind == Kind::Platform {
        files.push((
            "acceptance/acceptance.json".into(),
            "{\n  \"config\": {}\n}\n".into(),
        ));
        let vehicle = crate::acceptance::corpus::base("FIXTURE-001");
        files.push((
            "acceptance/vehicles.json".into(),
            serde_json::to_string_pretty(&vec![vehicle]).expect("a vehicle serialises") + "\n",
        ));
    } else {
        files.push((
            "acceptance/stock-export.json".into(),
            "[\n  {\"stock_id\": \"FIXTURE-001\", \"make\": \"Ford\", \"model\": \"Focus\", \"price_gbp\": 12995}\n]\n".into(),
        ));
    }
    files.push((
        ".gitignore".into(),
        "target/\n*.wasm\n.venv/\n.tools/\n__pycache__/\n".into(),
    ));
    Ok(files)
}

/// Write the project into `dir` (which must not exist, or be empty).
pub fn create(args: &NewArgs, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = render(args)?;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(ConfigError(format!(
            "{} exists and is not empty; choose another --dir",
            dir.display()
        ))
        .into());
    }
    let mut written = Vec::new();
    for (path, text) in files {
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
        written.push(target);
    }
    Ok(written)
}

/// Run `plugin new`.
pub fn run(args: NewArgs) -> anyhow::Result<u8> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let written = create(&args, &dir)?;
    println!(
        "created a {:?} {:?} plugin `{}` in {}:",
        args.lang,
        args.kind,
        args.name,
        dir.display()
    );
    for path in written {
        println!("  {}", path.display());
    }
    println!(
        "\nNext: read {}/README.md (build, test with `forecourt plugin test`, sign).",
        dir.display()
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(kind: Kind, lang: Lang) -> NewArgs {
        NewArgs {
            name: "acme-motors".into(),
            kind,
            lang,
            dir: None,
            sdk_path: Some("/src/forecourt/sdk".into()),
        }
    }

    #[test]
    fn every_template_fills_every_placeholder() {
        for (kind, lang) in [
            (Kind::Platform, Lang::Rust),
            (Kind::Source, Lang::Rust),
            (Kind::Platform, Lang::Python),
            (Kind::Platform, Lang::Js),
        ] {
            let files = render(&args(kind, lang)).unwrap();
            for (path, text) in &files {
                assert!(
                    !text.contains("{{"),
                    "{kind:?} {lang:?} {}: {text}",
                    path.display()
                );
            }
            let manifest = &files
                .iter()
                .find(|(p, _)| p.ends_with("forecourt.toml"))
                .unwrap()
                .1;
            let parsed: toml::Table = toml::from_str(manifest).unwrap();
            assert_eq!(parsed["plugin"]["id"].as_str(), Some("acme-motors"));
        }
        let cargo = &render(&args(Kind::Platform, Lang::Rust)).unwrap()[0].1;
        assert!(
            cargo.contains("forecourt-sdk = { path = \"/src/forecourt/sdk\" }"),
            "{cargo}"
        );
    }

    #[test]
    fn fixtures_parse_as_the_kit_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        create(&args(Kind::Platform, Lang::Python), &dir.path().join("p")).unwrap();
        let fixtures = crate::acceptance::Fixtures::load(&dir.path().join("p/acceptance")).unwrap();
        assert_eq!(fixtures.vehicles.len(), 1);
        assert!(create(&args(Kind::Platform, Lang::Python), &dir.path().join("p")).is_err());
    }

    #[test]
    fn bad_names_and_missing_templates_are_refused() {
        let mut a = args(Kind::Platform, Lang::Rust);
        a.name = "Acme Motors".into();
        assert!(render(&a).unwrap_err().0.contains("not a plugin id"));
        assert!(render(&args(Kind::Source, Lang::Python)).is_err());
    }
}
