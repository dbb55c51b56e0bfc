//! Rate limits per client address (or per account): a token bucket for each
//! key seen recently, so one client can't do a costly thing (start rooms,
//! sign in) faster than a person would.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses remembered before full buckets are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// Allows `per_minute` events per key (by default a client address), in
/// bursts of up to that many.
pub struct RateLimiter<K = IpAddr> {
    per_minute: u32,
    buckets: Mutex<HashMap<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes one token for `key`; when none is left, how long until one is.
    pub fn take(&self, key: K) -> Result<(), Duration> {
        let now = Instant::now();
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| b.refilled(now, per_second, capacity) < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = bucket.refilled(now, per_second, capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

impl RateLimiter<IpAddr> {
    /// Takes one token for `client`'s subscriber (see [`subscriber`]).
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.take(subscriber(client))
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, per_second: f64, capacity: f64) -> f64 {
        (self.tokens + now.duration_since(self.at).as_secs_f64() * per_second).min(capacity)
    }
}

/// The address to count a client under: the IPv4 address, or the /64 of an
/// IPv6 one (what one subscriber usually gets).
pub fn subscriber(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_then_another_address() {
        let limiter = RateLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20));
        assert!(limiter.check("10.0.0.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn ipv6_addresses_of_one_subnet_share_a_bucket() {
        let limiter = RateLimiter::new(1);
        assert!(limiter.check("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limiter.check("2001:db8::ffff:2".parse().unwrap()).is_err());
        assert!(limiter.check("2001:db8:0:1::1".parse().unwrap()).is_ok());
    }
}
