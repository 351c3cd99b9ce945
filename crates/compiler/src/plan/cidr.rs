//! IPv4 and IPv6 networks (`address/prefix`) as the NetworkPolicy's `ipBlock` takes them: parsed
//! strictly (the API server would refuse anything else) and compared, so that a request's
//! client CIDRs can be kept only when they lie inside the policy's.

use std::net::IpAddr;

/// An IPv4 or IPv6 network as `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    address: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.split_once('/')?;
        let address: IpAddr = address.parse().ok()?;
        // Digits only: `u8::from_str` would also take a leading `+`.
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { address, prefix })
    }

    /// Whether every address of `inner` is in `self` (same family only).
    pub(crate) fn contains(&self, inner: &Cidr) -> bool {
        if inner.prefix < self.prefix {
            return false;
        }
        let mask = |bits: u32, width: u32| -> u128 {
            if bits == 0 {
                0
            } else {
                (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
            }
        };
        match (self.address, inner.address) {
            (IpAddr::V4(outer), IpAddr::V4(addr)) => {
                let m = mask(self.prefix.into(), 32);
                u128::from(u32::from(outer)) & m == u128::from(u32::from(addr)) & m
            }
            (IpAddr::V6(outer), IpAddr::V6(addr)) => {
                let m = mask(self.prefix.into(), 128);
                u128::from(outer) & m == u128::from(addr) & m
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_contain() {
        let c = |s: &str| Cidr::parse(s).unwrap_or_else(|| panic!("{s} parses"));
        assert!(c("10.0.0.0/8").contains(&c("10.1.2.0/24")));
        assert!(c("10.0.0.0/8").contains(&c("10.0.0.0/8")));
        assert!(!c("10.0.0.0/8").contains(&c("0.0.0.0/0")));
        assert!(!c("10.0.0.0/8").contains(&c("11.0.0.0/24")));
        assert!(c("0.0.0.0/0").contains(&c("192.168.1.7/32")));
        assert!(c("fd00::/8").contains(&c("fd12:3456::/32")));
        assert!(!c("fd00::/8").contains(&c("fe80::/16")));
        assert!(c("::/0").contains(&c("2001:db8::1/128")));
        assert!(!c("0.0.0.0/0").contains(&c("::/0")));
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "fd00::/129",
            "x/8",
            "10.0.0.0/+8",
            "10.0.0.0/",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
