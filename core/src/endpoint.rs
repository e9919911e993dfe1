//! Where the gateway may connect: `https://` only, except loopback `http://` so that tests and
//! local development can run a mock tenant and an echo origin on this machine.
//!
//! Parsed by hand for this narrow grammar (`scheme://host[:port][/path][?query]`): the `url`
//! crate brought IDNA/Unicode tables into the wasm, and `http::Uri` would still leave host
//! lowercasing, default ports, credentials, IPv4 strictness and loopback to code written here.
//! The inputs are configuration and Entra-published metadata, so anything unusual that a
//! browser would repair (backslashes, tabs, IDN hosts, `..` segments, `127.1`) is refused.

use crate::quoted::Quoted;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// Plain `http://` to a host that is not loopback.
    NotHttps,
    /// A `#fragment`.
    Fragment,
    /// Spaces, control characters or backslashes.
    UnsafeCharacter,
    /// Not `scheme://…` at all.
    NotAUrl,
    /// A scheme other than https (or loopback http).
    Scheme {
        /// The scheme, lower-cased.
        scheme: String,
    },
    /// `user:password@`.
    Credentials,
    /// Something after the host that is not `:port`.
    Authority {
        /// The authority as given.
        authority: String,
    },
    /// No host at all.
    NoHost,
    /// A host that is not a plain DNS name or an IP address in normal form.
    Host {
        /// The host as given.
        host: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A port outside 1..=65535.
    Port {
        /// The port as given.
        port: String,
    },
    /// A path or query that is not ASCII.
    NonAscii,
    /// `.` or `..` segments in the path.
    DotSegments,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::NotHttps => f.write_str(
                "must use https (http is allowed for 127.0.0.1, localhost and [::1] only)",
            ),
            EndpointError::Fragment => f.write_str("must not have a fragment"),
            EndpointError::UnsafeCharacter => {
                f.write_str("must not contain spaces, control characters or backslashes")
            }
            EndpointError::NotAUrl => f.write_str("not a URL (expected https://host/path)"),
            EndpointError::Scheme { scheme } => write!(f, "scheme {} is not https", Quoted(scheme)),
            EndpointError::Credentials => f.write_str("must not carry credentials"),
            EndpointError::Authority { authority } => {
                write!(f, "{} is not host[:port]", Quoted(authority))
            }
            EndpointError::NoHost => f.write_str("has no host"),
            EndpointError::Host { host, problem } => write!(f, "host {} {problem}", Quoted(host)),
            EndpointError::Port { port } => write!(f, "port {} is not 1..=65535", Quoted(port)),
            EndpointError::NonAscii => {
                f.write_str("path and query must be ASCII (percent-encode other characters)")
            }
            EndpointError::DotSegments => f.write_str("path must not contain . or .. segments"),
        }
    }
}

impl std::error::Error for EndpointError {}

fn host_error(host: &str, problem: &'static str) -> EndpointError {
    EndpointError::Host {
        host: host.to_owned(),
        problem,
    }
}

/// An absolute `http(s)` URL in normal form: lowercase scheme and host, no default port, a path
/// of at least `/`, no credentials and no fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port]/path[?query]`, the form every other view is a slice of.
    text: String,
    scheme: Scheme,
    /// `text[..origin_len]` is `scheme://host[:port]`.
    origin_len: usize,
    host: Range<usize>,
    port: Option<u16>,
    query_start: Option<usize>,
    loopback: bool,
}

impl Endpoint {
    /// Parses an endpoint URL and applies the transport rule; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        let endpoint = Self::parse_any_transport(text.trim())?;
        if endpoint.scheme == Scheme::Http && !endpoint.loopback {
            return Err(EndpointError::NotHttps);
        }
        Ok(endpoint)
    }

    /// The URL grammar without the https rule (CORS origins may be plain http).
    fn parse_any_transport(text: &str) -> Result<Self, EndpointError> {
        refuse_unsafe_characters(text)?;
        if text.contains('#') {
            return Err(EndpointError::Fragment);
        }
        let (scheme, rest) = split_scheme(text)?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (host, port) = split_authority(authority)?;
        let (host, loopback) = normal_host(host)?;
        let port = normal_port(port, scheme)?;
        let (path, query) = match tail.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (tail, None),
        };
        check_path_and_query(path, query)?;
        Ok(Self::assemble(scheme, &host, port, path, query, loopback))
    }

    fn assemble(
        scheme: Scheme,
        host: &str,
        port: Option<u16>,
        path: &str,
        query: Option<&str>,
        loopback: bool,
    ) -> Self {
        let mut text = format!("{}://", scheme.as_str());
        let host_start = text.len();
        text.push_str(host);
        let host = host_start..text.len();
        if let Some(port) = port {
            text.push_str(&format!(":{port}"));
        }
        let origin_len = text.len();
        if path.is_empty() {
            text.push('/');
        }
        push_encoded(&mut text, path, PATH_ENCODED);
        let query_start = query.map(|query| {
            text.push('?');
            let start = text.len();
            push_encoded(&mut text, query, QUERY_ENCODED);
            start
        });
        Endpoint {
            text,
            scheme,
            origin_len,
            host,
            port,
            query_start,
            loopback,
        }
    }

    /// The normalised URL, e.g. `https://login.microsoftonline.com/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `scheme://host[:port]`, the browser's serialization of the origin.
    pub fn origin(&self) -> &str {
        self.text.get(..self.origin_len).unwrap_or_default()
    }

    /// The lowercase host; IPv6 addresses keep their brackets.
    pub fn host(&self) -> &str {
        self.text.get(self.host.clone()).unwrap_or_default()
    }

    /// The port, unless it is the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The query without its `?`; `Some("")` for a bare `?`.
    pub fn query(&self) -> Option<&str> {
        self.query_start.and_then(|start| self.text.get(start..))
    }

    /// `localhost`, 127.0.0.0/8 or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Same scheme, host and port: a metadata document may only point at keys on its own authority.
    pub fn same_origin(&self, other: &Endpoint) -> bool {
        self.origin() == other.origin()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether `text` is exactly an origin as a browser sends it: `http(s)://host[:port]`, lowercase,
/// without a default port or a trailing slash (CORS compares origins as strings).
pub fn is_origin(text: &str) -> bool {
    Endpoint::parse_any_transport(text).is_ok_and(|e| e.origin() == text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// What `url` would silently strip or rewrite (tabs, newlines, `\` as `/`) is refused instead,
/// so the text configured is the text used.
fn refuse_unsafe_characters(text: &str) -> Result<(), EndpointError> {
    if text
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(EndpointError::UnsafeCharacter);
    }
    Ok(())
}

/// The scheme (case-insensitive) and what follows its `://`.
fn split_scheme(text: &str) -> Result<(Scheme, &str), EndpointError> {
    let (name, rest) = text.split_once(':').ok_or(EndpointError::NotAUrl)?;
    let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_name {
        return Err(EndpointError::NotAUrl);
    }
    let scheme = match name.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => {
            return Err(EndpointError::Scheme {
                scheme: other.to_owned(),
            })
        }
    };
    let rest = rest.strip_prefix("//").ok_or(EndpointError::NotAUrl)?;
    Ok((scheme, rest))
}

/// `host[:port]` into the host and the port's text, if any.
fn split_authority(authority: &str) -> Result<(&str, Option<&str>), EndpointError> {
    if authority.contains('@') {
        return Err(EndpointError::Credentials);
    }
    let host_end = if authority.starts_with('[') {
        authority
            .find(']')
            .map_or(authority.len(), |bracket| bracket + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, after) = authority.split_at(host_end);
    match after.strip_prefix(':') {
        Some(port) => Ok((host, Some(port))),
        None if after.is_empty() => Ok((host, None)),
        None => Err(EndpointError::Authority {
            authority: authority.to_owned(),
        }),
    }
}

/// The host in normal form, and whether it is loopback.
fn normal_host(host: &str) -> Result<(String, bool), EndpointError> {
    if host.is_empty() {
        return Err(EndpointError::NoHost);
    }
    if let Some(inside) = host.strip_prefix('[') {
        let ip = inside
            .strip_suffix(']')
            .and_then(|ip| ip.parse::<Ipv6Addr>().ok())
            .ok_or_else(|| host_error(host, "is not an IPv6 address"))?;
        // std and `url` spell these differently (`::ffff:1.2.3.4` against `::ffff:102:304`), and
        // the IPv4 address itself says the same more plainly.
        if ip.to_ipv4_mapped().is_some() {
            return Err(host_error(host, "is IPv4-mapped: write the IPv4 address"));
        }
        return Ok((format!("[{ip}]"), ip.is_loopback()));
    }
    if !host.is_ascii() {
        return Err(host_error(
            host,
            "is not ASCII: write an internationalised domain name in punycode (xn--…)",
        ));
    }
    if host.contains('%') {
        return Err(host_error(host, "must not be percent-encoded"));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(host_error(
            host,
            "may hold only letters, digits, '-', '_' and '.'",
        ));
    }
    if host.split('.').any(str::is_empty) {
        return Err(host_error(host, "has an empty label"));
    }
    if ends_in_number(host) {
        let ip = host
            .parse::<Ipv4Addr>()
            .map_err(|_| host_error(host, "is not a dotted-quad IPv4 address"))?;
        return Ok((ip.to_string(), ip.is_loopback()));
    }
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost";
    Ok((host, loopback))
}

/// A host whose last label is numeric is read as IPv4 by browsers and `url` (which also take
/// `127.1` and `0x7f.1`); such hosts must be plain dotted-quad addresses here.
fn ends_in_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or_default();
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    last.bytes().all(|b| b.is_ascii_digit())
        || hex.is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The port as a number, `None` when absent or the scheme's default.
fn normal_port(port: Option<&str>, scheme: Scheme) -> Result<Option<u16>, EndpointError> {
    let Some(text) = port else {
        return Ok(None);
    };
    let number = Some(text)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u16>().ok())
        .filter(|&n| n != 0)
        .ok_or_else(|| EndpointError::Port {
            port: text.to_owned(),
        })?;
    Ok(Some(number).filter(|&n| n != scheme.default_port()))
}

/// Both must be ASCII, and the path free of dot segments, which `url` would resolve away.
fn check_path_and_query(path: &str, query: Option<&str>) -> Result<(), EndpointError> {
    if !path.is_ascii() || !query.unwrap_or_default().is_ascii() {
        return Err(EndpointError::NonAscii);
    }
    let dot_segment = path.split('/').any(|segment| {
        matches!(
            segment.to_ascii_lowercase().as_str(),
            "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
        )
    });
    if dot_segment {
        return Err(EndpointError::DotSegments);
    }
    Ok(())
}

/// Printable ASCII that `url` percent-encodes in a path (WHATWG path percent-encode set).
const PATH_ENCODED: &[u8] = b"\"<>`{}";
/// Printable ASCII that `url` percent-encodes in a special scheme's query.
const QUERY_ENCODED: &[u8] = b"\"<>'";

/// Appends `text`, percent-encoding the bytes in `set` exactly as `url` serialized them.
fn push_encoded(out: &mut String, text: &str, set: &[u8]) {
    for c in text.chars() {
        match u8::try_from(c) {
            Ok(byte) if set.contains(&byte) => out.push_str(&format!("%{byte:02X}")),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(text: &str) -> String {
        match Endpoint::parse(text) {
            Ok(e) => e.as_str().to_owned(),
            Err(e) => panic!("{text:?} refused: {e}"),
        }
    }

    fn refusal(text: &str) -> String {
        match Endpoint::parse(text) {
            Ok(e) => panic!("{text:?} accepted as {e}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn https_or_loopback_http() {
        for accepted in [
            "https://login.microsoftonline.com",
            "http://127.0.0.1:9000",
            "http://127.8.0.1:9000",
            "http://127.255.255.254",
            "http://localhost:9000",
            "http://LOCALHOST",
            "http://[::1]:9000",
            "http://[0:0:0:0:0:0:0:1]/",
        ] {
            let e = Endpoint::parse(accepted).unwrap_or_else(|e| panic!("{accepted}: {e}"));
            assert_eq!(e.is_loopback(), accepted.starts_with("http:"), "{accepted}");
        }
        for plain_http in [
            "http://login.microsoftonline.com",
            "http://10.0.0.1",
            "http://127.evil.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "http://evil-localhost",
            "http://[::2]",
        ] {
            assert!(
                refusal(plain_http).starts_with("must use https"),
                "{plain_http}"
            );
        }
    }

    #[test]
    fn normalises_case_default_port_and_empty_path() {
        assert_eq!(
            normal("https://Login.MicrosoftOnline.com"),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(
            normal("HTTPS://example.com:443/A/b"),
            "https://example.com/A/b"
        );
        assert_eq!(normal("http://localhost:80"), "http://localhost/");
        assert_eq!(normal("http://localhost:0080/x"), "http://localhost/x");
        assert_eq!(
            normal("https://example.com:8443"),
            "https://example.com:8443/"
        );
        assert_eq!(normal("http://127.0.0.1:443"), "http://127.0.0.1:443/");
        assert_eq!(
            normal("https://example.com?a=1"),
            "https://example.com/?a=1"
        );
        assert_eq!(normal("https://example.com/p/?"), "https://example.com/p/?");
        assert_eq!(normal("http://[0::1]:9000"), "http://[::1]:9000/");
        assert_eq!(
            normal("  https://example.com/x \n"),
            "https://example.com/x"
        );
        assert_eq!(
            normal("https://my_host.example/"),
            "https://my_host.example/"
        );
        assert_eq!(normal("https://a.0xfoo"), "https://a.0xfoo/");
    }

    #[test]
    fn encodes_what_url_encoded() {
        assert_eq!(
            normal("https://login.microsoftonline.com/{tenantid}/v2.0"),
            "https://login.microsoftonline.com/%7Btenantid%7D/v2.0"
        );
        assert_eq!(
            normal("https://example.com/a\"<>`?q='{}\"<>"),
            "https://example.com/a%22%3C%3E%60?q=%27{}%22%3C%3E"
        );
        assert_eq!(
            normal("https://example.com/%41%zz"),
            "https://example.com/%41%zz"
        );
    }

    #[test]
    fn normal_form_parses_to_itself() {
        for text in [
            "HTTPS://Example.COM:443",
            "http://[0:0::1]:80/a?b",
            "https://example.com/{x}?'",
            "http://127.0.0.1:9001/base/",
        ] {
            let once = Endpoint::parse(text).expect("valid");
            assert_eq!(Endpoint::parse(once.as_str()), Ok(once));
        }
    }

    #[test]
    fn every_refusal_says_why() {
        for (text, why) in [
            ("ftp://127.0.0.1", "scheme \"ftp\" is not https"),
            ("mailto:a@example.com", "scheme \"mailto\" is not https"),
            ("not a url", "must not contain spaces"),
            ("example.com", "not a URL"),
            ("://example.com", "not a URL"),
            ("https:example.com", "not a URL"),
            ("https:/example.com", "not a URL"),
            ("https://user:pw@example.com", "must not carry credentials"),
            ("https://user@example.com", "must not carry credentials"),
            ("https://@example.com", "must not carry credentials"),
            ("https://example.com/#x", "must not have a fragment"),
            ("https://example.com#", "must not have a fragment"),
            ("https://", "has no host"),
            ("https:///path", "has no host"),
            ("https://:443/", "has no host"),
            ("https://bücher.example", "punycode"),
            ("https://ex%61mple.com", "percent-encoded"),
            ("https://exa mple.com", "must not contain spaces"),
            ("https://example.com/a\tb", "control characters"),
            ("https://exam\nple.com", "control characters"),
            ("https://example.com\\path", "backslashes"),
            ("https://exa*mple.com", "may hold only"),
            ("https://a..example.com", "empty label"),
            ("https://example.com.", "empty label"),
            ("https://127.1", "dotted-quad"),
            ("https://0x7f.0.0.1", "dotted-quad"),
            ("https://127.000.0.1", "dotted-quad"),
            ("https://1.2.3.256", "dotted-quad"),
            ("https://example.0x10", "dotted-quad"),
            ("https://[::1", "not an IPv6 address"),
            ("https://[fe80::1%25eth0]", "not an IPv6 address"),
            ("https://[example.com]", "not an IPv6 address"),
            ("http://[::ffff:127.0.0.1]", "write the IPv4 address"),
            ("https://[::ffff:102:304]", "write the IPv4 address"),
            ("https://example.com:", "port \"\" is not 1..=65535"),
            ("https://example.com:0", "port \"0\" is not"),
            ("https://example.com:65536", "port \"65536\" is not"),
            ("https://example.com:99999999999", "is not 1..=65535"),
            ("https://example.com:+443", "port \"+443\" is not"),
            ("https://example.com:443:1", "port \"443:1\" is not"),
            ("https://[::1]x", "is not host[:port]"),
            ("https://[::1]:x", "port \"x\" is not"),
            ("https://example.com/é", "must be ASCII"),
            ("https://example.com/?q=é", "must be ASCII"),
            ("https://example.com/a/../b", ". or .. segments"),
            ("https://example.com/./b", ". or .. segments"),
            ("https://example.com/a/%2E%2e", ". or .. segments"),
            ("https://example.com/a/.%2e/", ". or .. segments"),
        ] {
            let error = refusal(text);
            assert!(error.contains(why), "{text:?}: {error:?} lacks {why:?}");
        }
    }

    #[test]
    fn keeps_dots_that_are_not_segments() {
        assert_eq!(
            normal("https://example.com/.well-known/a..b/v2.0"),
            "https://example.com/.well-known/a..b/v2.0"
        );
        assert_eq!(
            normal("https://example.com/?x=/../"),
            "https://example.com/?x=/../"
        );
    }

    #[test]
    fn views_of_the_parts() {
        let e = Endpoint::parse("https://API.example.com:8443/base/?a=1&b").expect("valid");
        assert_eq!(e.origin(), "https://api.example.com:8443");
        assert_eq!(e.host(), "api.example.com");
        assert_eq!(e.port(), Some(8443));
        assert_eq!(e.query(), Some("a=1&b"));
        assert_eq!(e.to_string(), "https://api.example.com:8443/base/?a=1&b");
        let bare = Endpoint::parse("http://[::1]:80").expect("valid");
        assert_eq!(bare.origin(), "http://[::1]");
        assert_eq!(bare.host(), "[::1]");
        assert_eq!(bare.port(), None);
        assert_eq!(bare.query(), None);
    }

    #[test]
    fn same_origin_needs_scheme_host_and_port() {
        let origin = |text| Endpoint::parse(text).expect("valid");
        let keys = origin("https://login.microsoftonline.com/t/discovery/keys?x=1");
        assert!(keys.same_origin(&origin("https://LOGIN.microsoftonline.com:443")));
        assert!(!keys.same_origin(&origin("https://login.microsoftonline.com:8443")));
        assert!(!keys.same_origin(&origin("https://login.microsoftonline.us")));
        assert!(!keys.same_origin(&origin("https://evil.login.microsoftonline.com")));
        let local = origin("http://localhost:9000/a");
        assert!(local.same_origin(&origin("http://localhost:9000/b")));
        assert!(!local.same_origin(&origin("https://localhost:9000/a")));
        assert!(!local.same_origin(&origin("http://127.0.0.1:9000/a")));
    }

    #[test]
    fn origins_as_browsers_send_them() {
        for accepted in [
            "https://app.example.com",
            "http://app.example.com",
            "http://127.0.0.1:8080",
            "http://[::1]:5173",
            "https://app.example.com:8443",
        ] {
            assert!(is_origin(accepted), "{accepted}");
        }
        for refused in [
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.example.com",
            "https://app.example.com:443",
            "app.example.com",
            "ws://app.example.com",
            "null",
            "*",
            " https://app.example.com",
        ] {
            assert!(!is_origin(refused), "{refused}");
        }
    }
}
