//! The browser client: the files Vite built (`web/dist`), read into memory once at start
//! with a gzip copy of each compressible file, and served with cache headers and the
//! security headers every page of the client carries (a strict Content-Security-Policy
//! first among them).
//!
//! Routes: a file that exists is served as it is; a page of the single-page client (`/`,
//! `/programme`, `/sessions/<slug>`, `/sessions/<slug>/presenter`, `/sessions/<slug>/green`,
//! `/expo`, `/booths/<slug>`, `/calls/<id>`) gets `index.html`;
//! anything else is 404.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::config::Settings;
use crate::programme::model::EMBED_HOSTS;

/// Files bigger than this are not held in memory (Vite's output is far smaller; a stray
/// video in the folder must not take the node's memory).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Compressing smaller files gains less than the header costs.
const MIN_GZIP_BYTES: usize = 512;

/// One file of the client, ready to send.
#[derive(Debug)]
struct Asset {
    body: Bytes,
    gzip: Option<Bytes>,
    content_type: HeaderValue,
    etag: HeaderValue,
    /// Vite names files under `assets/` by their content hash: they never change.
    immutable: bool,
}

/// The built client, or the reason there is none.
#[derive(Debug)]
pub struct WebAssets {
    files: HashMap<String, Asset>,
    /// Where the files came from, or where they were looked for.
    dir: PathBuf,
    security_headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl WebAssets {
    /// Reads the client from `settings.web_dir`, or from `web/dist` in the working directory
    /// or the source tree. A missing client is not an error: the node serves its API and
    /// answers pages with instructions to build the client.
    pub fn load(settings: &Settings) -> anyhow::Result<WebAssets> {
        let dir = match &settings.web_dir {
            Some(dir) => dir.clone(),
            None => {
                let candidates = [PathBuf::from("web/dist"), Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist")];
                candidates.iter().find(|d| d.join("index.html").is_file()).unwrap_or(&candidates[0]).clone()
            }
        };
        let mut files = HashMap::new();
        if dir.join("index.html").is_file() {
            read_dir(&dir, &dir, &mut files)?;
            tracing::info!(dir = %dir.display(), files = files.len(), "serving the browser client");
        } else if settings.web_dir.is_some() {
            anyhow::bail!("web_dir {}: no index.html there (build the client with `bash web/build.sh`)", dir.display());
        } else {
            tracing::warn!(dir = %dir.display(), "the browser client is not built: run `bash web/build.sh`");
        }
        Ok(WebAssets { files, dir, security_headers: security_headers(settings)? })
    }

    pub fn is_built(&self) -> bool {
        self.files.contains_key("index.html")
    }

    /// Answers a GET or HEAD that no other route took.
    pub fn respond(&self, method: &Method, uri: &Uri, request_headers: &HeaderMap) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let path = uri.path().trim_start_matches('/');
        if path.starts_with("api/") || path == "ws" {
            return None;
        }
        let asset = match self.files.get(path) {
            Some(asset) => asset,
            None if is_client_route(path) => match self.files.get("index.html") {
                Some(index) => index,
                None => return Some(self.not_built()),
            },
            None => return None,
        };
        Some(self.send(asset, method, request_headers))
    }

    fn send(&self, asset: &Asset, method: &Method, request_headers: &HeaderMap) -> Response {
        let mut response =
            if request_headers.get(header::IF_NONE_MATCH).is_some_and(|tag| etag_matches(tag, &asset.etag)) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let gzip = asset.gzip.as_ref().filter(|_| accepts_gzip(request_headers));
                let body = gzip.unwrap_or(&asset.body).clone();
                let mut response = if method == Method::HEAD {
                    let mut r = Response::new(Body::empty());
                    if let Ok(len) = HeaderValue::from_str(&body.len().to_string()) {
                        r.headers_mut().insert(header::CONTENT_LENGTH, len);
                    }
                    r
                } else {
                    Response::new(Body::from(body))
                };
                if gzip.is_some() {
                    response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                response.headers_mut().insert(header::CONTENT_TYPE, asset.content_type.clone());
                response
            };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, asset.etag.clone());
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if asset.immutable { "public, max-age=31536000, immutable" } else { "no-cache" }),
        );
        for (name, value) in &self.security_headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }

    fn not_built(&self) -> Response {
        let text = format!(
            "Plenary is running, but its browser client is not built (looked in {}).\n\
             Build it with `bash web/build.sh`, or run the node with the README's run command.\n\
             The API is at /api and the WebSocket at /ws.\n",
            self.dir.display()
        );
        (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
    }
}

fn read_dir(root: &Path, dir: &Path, files: &mut HashMap<String, Asset>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            read_dir(root, &path, files)?;
            continue;
        }
        if !kind.is_file() || entry.metadata()?.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else { continue };
        let Some(key) = relative.to_str().map(|k| k.replace('\\', "/")) else { continue };
        if key.ends_with(".map") {
            continue;
        }
        let body = Bytes::from(std::fs::read(&path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?);
        let mime = mime_guess::from_path(&path).first_or_octet_stream();
        let textual = mime.type_() == mime_guess::mime::TEXT
            || matches!(mime.subtype().as_str(), "javascript" | "json" | "svg" | "xml" | "manifest+json");
        let content_type = if textual && mime.get_param("charset").is_none() {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        };
        let gzip =
            if textual && body.len() >= MIN_GZIP_BYTES { gzip(&body).filter(|g| g.len() < body.len()) } else { None };
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", fnv1a(&body)))?;
        let immutable = key.starts_with("assets/");
        files.insert(key, Asset { body, gzip, content_type: HeaderValue::from_str(&content_type)?, etag, immutable });
    }
    Ok(())
}

fn gzip(data: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// A content fingerprint for the `ETag` (not a security boundary: a changed file only
/// needs a different tag).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.trim().split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

fn etag_matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(list) = if_none_match.to_str() else { return false };
    let Ok(tag) = etag.to_str() else { return false };
    list.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == tag || t == "*")
}

/// The pages of the client (web/src/router.ts), without the leading `/`.
fn is_client_route(path: &str) -> bool {
    match path.trim_end_matches('/') {
        "" | "programme" | "expo" => true,
        other => {
            other.strip_prefix("sessions/").is_some_and(|rest| {
                let slug = rest.strip_suffix("/presenter").or_else(|| rest.strip_suffix("/green")).unwrap_or(rest);
                crate::programme::model::is_slug(slug)
            }) || other.strip_prefix("booths/").is_some_and(crate::programme::model::is_slug)
                || other
                    .strip_prefix("calls/")
                    .is_some_and(|id| !id.is_empty() && id.len() <= 48 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        }
    }
}

/// The headers on every page and file of the client.
///
/// Scripts and styles come only from the node itself, so text that reaches the page can
/// never run. Streams: `https:` media plays natively from anywhere, and hls.js may fetch
/// from the configured stage origins. Frames: only the embed hosts a session's stage may
/// name (the list the programme validates against).
fn security_headers(settings: &Settings) -> anyhow::Result<Vec<(header::HeaderName, HeaderValue)>> {
    let stage_origins: String =
        settings.stage_origins.iter().map(|o| format!(" {}", o.trim_end_matches('/'))).collect();
    let frame_hosts = EMBED_HOSTS.iter().map(|h| format!("https://{h}")).collect::<Vec<_>>().join(" ");
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; font-src 'self'; \
         connect-src 'self'{stage_origins}; media-src 'self' blob: https:{stage_origins}; frame-src {frame_hosts}; \
         worker-src 'self' blob:; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    Ok(vec![
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp)?),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        // A token link (`/?token=...`) must not leak to other sites through the Referer.
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(self), microphone=(self), display-capture=(self), geolocation=()"),
        ),
        (header::HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(dir: &Path) -> WebAssets {
        let settings = Settings { web_dir: Some(dir.to_owned()), ..Settings::default() };
        WebAssets::load(&settings).unwrap()
    }

    fn get(assets: &WebAssets, path: &str, headers: &[(&'static str, &'static str)]) -> Option<Response> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        assets.respond(&Method::GET, &path.parse().unwrap(), &map)
    }

    #[test]
    fn serves_files_pages_and_refuses_the_rest() {
        let dir = std::env::temp_dir().join(format!("plenary-web-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>x</title>".repeat(40)).unwrap();
        std::fs::write(dir.join("assets/app-abc123.js"), "console.log(1);".repeat(100)).unwrap();
        let web = assets(&dir);
        std::fs::remove_dir_all(&dir).unwrap();

        let page = get(&web, "/sessions/opening", &[]).unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self';"));
        assert_eq!(page.headers()[header::REFERRER_POLICY], "no-referrer");

        let script = get(&web, "/assets/app-abc123.js", &[("accept-encoding", "br, gzip")]).unwrap();
        assert_eq!(script.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(script.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
        let etag = script.headers()[header::ETAG].to_str().unwrap().to_owned();
        let plain = get(&web, "/assets/app-abc123.js", &[("accept-encoding", "gzip;q=0")]).unwrap();
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());

        let mut map = HeaderMap::new();
        map.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let cached = web.respond(&Method::GET, &"/assets/app-abc123.js".parse().unwrap(), &map).unwrap();
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

        assert!(get(&web, "/assets/missing.js", &[]).is_none(), "a missing file is not the app page");
        assert!(get(&web, "/nope", &[]).is_none(), "only the client's own routes are pages");
        assert!(get(&web, "/sessions/Bad%20Slug", &[]).is_none());
        assert!(get(&web, "/programme", &[]).is_some());
        assert!(get(&web, "/sessions/opening/presenter", &[]).is_some());
        assert!(get(&web, "/expo", &[]).is_some());
        assert!(get(&web, "/sessions/opening/green", &[]).is_some());
        assert!(get(&web, "/booths/itu", &[]).is_some());
        assert!(get(&web, "/calls/01945c4a1b2c7d3e8f9a0b1c2d3e4f50", &[]).is_some());
        assert!(get(&web, "/calls/not-hex", &[]).is_none());
        assert!(get(&web, "/booths/Bad", &[]).is_none());
        assert!(get(&web, "/api/nothing", &[]).is_none());
        assert!(web.respond(&Method::POST, &"/".parse().unwrap(), &HeaderMap::new()).is_none());
    }

    #[test]
    fn a_missing_client_says_how_to_build_it() {
        let settings = Settings { web_dir: None, ..Settings::default() };
        let web = WebAssets {
            files: HashMap::new(),
            dir: "nowhere".into(),
            security_headers: security_headers(&settings).unwrap(),
        };
        let response = get(&web, "/", &[]).unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let configured = Settings { web_dir: Some("/nonexistent/plenary-web".into()), ..Settings::default() };
        assert!(WebAssets::load(&configured).is_err(), "a configured web_dir must exist");
    }

    #[test]
    fn stage_origins_reach_the_policy() {
        let settings = Settings { stage_origins: vec!["http://127.0.0.1:9000".into()], ..Settings::default() };
        let headers = security_headers(&settings).unwrap();
        let csp = headers[0].1.to_str().unwrap();
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:9000;"), "{csp}");
        assert!(csp.contains("frame-src https://www.youtube-nocookie.com"), "{csp}");
    }
}
