//! Where the gateway may connect: `https://` only, except loopback `http://` so that tests and
//! local development can run a mock tenant and an echo origin on this machine.

use url::{Host, Url};

/// Parses an endpoint URL and applies the transport rule; the error says what is wrong.
pub fn endpoint(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => {
            Err("must use https (http is allowed for 127.0.0.1, localhost and [::1] only)".into())
        }
        other => Err(format!("scheme {other:?} is not https")),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Same scheme, host and port: a metadata document may only point at keys on its own authority.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_or_loopback_http() {
        assert!(endpoint("https://login.microsoftonline.com").is_ok());
        assert!(endpoint("http://127.0.0.1:9000").is_ok());
        assert!(endpoint("http://127.8.0.1:9000").is_ok());
        assert!(endpoint("http://localhost:9000").is_ok());
        assert!(endpoint("http://[::1]:9000").is_ok());
        assert!(endpoint("http://login.microsoftonline.com").is_err());
        assert!(endpoint("http://10.0.0.1").is_err());
        assert!(endpoint("ftp://127.0.0.1").is_err());
        assert!(endpoint("https://user:pw@example.com").is_err());
        assert!(endpoint("https://example.com/#x").is_err());
        assert!(endpoint("not a url").is_err());
    }
}
