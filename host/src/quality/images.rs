//! Image rules: duplicates and stock placeholders are dropped from what is
//! sent, then the remaining images are counted and their sizes checked.
//! Sizes come from the DMS or, failing that, from the image cache (see
//! [`super::image_probe`]); an unknown size is a warning, never a block.

use super::image_probe::Measured;
use super::rules::{id, Finding, RuleSet};
use crate::runtime::types::Image;
use std::collections::{HashMap, HashSet};

/// URL identity: scheme and host are case-insensitive, a trailing slash or
/// fragment changes nothing.
pub fn url_key(url: &str) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            format!(
                "{}://{}/{}",
                scheme.to_lowercase(),
                host.to_lowercase(),
                path.trim_end_matches('/')
            )
        }
        None => url.to_string(),
    }
}

/// How often each image URL is used across the stock (a URL on several
/// different vehicles is a stock photo).
pub type SharedUrls = HashMap<String, usize>;

/// Images after cleaning, and what the rules found.
#[derive(Debug, Clone, Default)]
pub struct ImageCheck {
    /// The images to send, in order.
    pub images: Vec<Image>,
    /// Findings.
    pub findings: Vec<Finding>,
}

/// Check and clean `images`. `sizes` holds measured sizes by URL.
pub fn check(
    images: &[Image],
    rules: &RuleSet,
    sizes: &HashMap<String, Measured>,
    shared: Option<&SharedUrls>,
) -> ImageCheck {
    let mut out = ImageCheck::default();
    let mut seen = HashSet::new();
    let (mut duplicates, mut placeholders) = (Vec::new(), Vec::new());
    let patterns: Vec<String> = rules
        .list(id::IMAGES_PLACEHOLDER, "patterns")
        .iter()
        .map(|p| p.to_lowercase())
        .collect();
    let shared_by = rules.int(id::IMAGES_PLACEHOLDER, "shared_by").max(2) as usize;
    for (i, image) in images.iter().enumerate() {
        let key = url_key(&image.url);
        if image.url.trim().is_empty() {
            continue;
        }
        if rules.on(id::IMAGES_DUPLICATE) && !seen.insert(key.clone()) {
            duplicates.push(i);
            continue;
        }
        if rules.on(id::IMAGES_PLACEHOLDER) {
            let lower = key.to_lowercase();
            let named = patterns.iter().any(|p| lower.contains(p.as_str()));
            let stock_photo = shared
                .and_then(|s| s.get(&key))
                .is_some_and(|n| *n >= shared_by);
            if named || stock_photo {
                placeholders.push(i);
                continue;
            }
        }
        out.images.push(image.clone());
    }
    let list = |v: &[usize]| {
        v.iter()
            .map(|i| format!("images[{i}]"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !duplicates.is_empty() {
        out.findings.push(Finding::new(
            id::IMAGES_DUPLICATE,
            "images",
            format!(
                "{} repeat an earlier image and were dropped",
                list(&duplicates)
            ),
        ));
    }
    if !placeholders.is_empty() {
        out.findings.push(Finding::new(
            id::IMAGES_PLACEHOLDER,
            "images",
            format!(
                "{} look like placeholder or stock photos (name, or the same URL on {shared_by}+ vehicles) and were dropped",
                list(&placeholders)
            ),
        ));
    }
    let min = rules.int(id::IMAGES_MIN_COUNT, "min") as usize;
    if rules.on(id::IMAGES_MIN_COUNT) && out.images.len() < min {
        out.findings.push(Finding::new(
            id::IMAGES_MIN_COUNT,
            "images",
            format!(
                "{} usable image(s); at least {min} are needed",
                out.images.len()
            ),
        ));
    }
    let (w_min, h_min) = (
        rules.int(id::IMAGES_MIN_RESOLUTION, "width") as u32,
        rules.int(id::IMAGES_MIN_RESOLUTION, "height") as u32,
    );
    let (mut small, mut unknown) = (Vec::new(), 0usize);
    for (i, image) in out.images.iter().enumerate() {
        let size = match (image.width, image.height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some((w, h)),
            _ => match sizes.get(&image.url) {
                Some(Measured::Size(w, h)) => Some((*w, *h)),
                _ => None,
            },
        };
        match size {
            // Either orientation: a portrait photo of 600x800 is as sharp as 800x600.
            Some((w, h)) if w.max(h) < w_min.max(h_min) || w.min(h) < w_min.min(h_min) => {
                small.push(format!("images[{i}] is {w}x{h}"))
            }
            Some(_) => {}
            None => unknown += 1,
        }
    }
    if rules.on(id::IMAGES_MIN_RESOLUTION) && !small.is_empty() {
        out.findings.push(Finding::new(
            id::IMAGES_MIN_RESOLUTION,
            "images",
            format!("{}; at least {w_min}x{h_min} is needed", small.join(", ")),
        ));
    }
    if rules.on(id::IMAGES_SIZE_UNKNOWN) && unknown > 0 {
        out.findings.push(Finding::new(
            id::IMAGES_SIZE_UNKNOWN,
            "images",
            format!(
                "the size of {unknown} of {} image(s) is not known yet (the DMS gave none and they have not been measured); resolution not checked",
                out.images.len()
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(url: &str, size: Option<(u32, u32)>) -> Image {
        Image {
            url: url.into(),
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
        }
    }

    fn six(size: Option<(u32, u32)>) -> Vec<Image> {
        (0..6)
            .map(|i| img(&format!("https://cdn.dealer.co.uk/a/{i}.jpg"), size))
            .collect()
    }

    fn rules_of(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn six_good_images_pass() {
        let c = check(
            &six(Some((1600, 1200))),
            &RuleSet::default(),
            &HashMap::new(),
            None,
        );
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        assert_eq!(c.images.len(), 6);
    }

    #[test]
    fn too_few_and_too_small() {
        let mut images = six(Some((1600, 1200)));
        images.pop();
        let c = check(&images, &RuleSet::default(), &HashMap::new(), None);
        assert_eq!(rules_of(&c.findings), vec![id::IMAGES_MIN_COUNT]);
        assert!(c.findings[0].message.starts_with("5 usable"));
        let mut images = six(Some((1600, 1200)));
        images[2] = img("https://cdn.dealer.co.uk/a/small.jpg", Some((640, 480)));
        images[3] = img("https://cdn.dealer.co.uk/a/portrait.jpg", Some((600, 800)));
        images[4] = img("https://cdn.dealer.co.uk/a/edge.jpg", Some((800, 600)));
        let c = check(&images, &RuleSet::default(), &HashMap::new(), None);
        assert_eq!(rules_of(&c.findings), vec![id::IMAGES_MIN_RESOLUTION]);
        assert_eq!(
            c.findings[0].message,
            "images[2] is 640x480; at least 800x600 is needed"
        );
    }

    #[test]
    fn duplicates_and_placeholders_are_dropped_then_counted() {
        let mut images = six(Some((1600, 1200)));
        images.push(img("HTTPS://CDN.DEALER.CO.UK/a/1.jpg", Some((1600, 1200))));
        images.push(img(
            "https://cdn.dealer.co.uk/img/No-Image-Available.png",
            Some((1600, 1200)),
        ));
        let c = check(&images, &RuleSet::default(), &HashMap::new(), None);
        assert_eq!(
            rules_of(&c.findings),
            vec![id::IMAGES_DUPLICATE, id::IMAGES_PLACEHOLDER]
        );
        assert_eq!(c.images.len(), 6);
        assert!(c.findings[0].message.starts_with("images[6] repeat"));
        // A photo every vehicle uses is a stock photo.
        let mut shared = SharedUrls::new();
        shared.insert(url_key(&images[0].url), 5);
        let c = check(
            &images[..6],
            &RuleSet::default(),
            &HashMap::new(),
            Some(&shared),
        );
        assert_eq!(
            rules_of(&c.findings),
            vec![id::IMAGES_PLACEHOLDER, id::IMAGES_MIN_COUNT]
        );
    }

    #[test]
    fn unknown_sizes_warn_and_measured_sizes_count() {
        let images = six(None);
        let c = check(&images, &RuleSet::default(), &HashMap::new(), None);
        assert_eq!(rules_of(&c.findings), vec![id::IMAGES_SIZE_UNKNOWN]);
        assert!(c.findings[0].message.contains("6 of 6"));
        let mut sizes: HashMap<String, Measured> = images
            .iter()
            .map(|i| (i.url.clone(), Measured::Size(1024, 768)))
            .collect();
        sizes.insert(images[5].url.clone(), Measured::Size(320, 240));
        let c = check(&images, &RuleSet::default(), &sizes, None);
        assert_eq!(rules_of(&c.findings), vec![id::IMAGES_MIN_RESOLUTION]);
        sizes.insert(images[5].url.clone(), Measured::Failed("HTTP 404".into()));
        let c = check(&images, &RuleSet::default(), &sizes, None);
        assert_eq!(rules_of(&c.findings), vec![id::IMAGES_SIZE_UNKNOWN]);
        assert!(c.findings[0].message.contains("1 of 6"));
    }
}
