//! [`Millis`]: the distribution (count, p50, p99, max) of a per-participant duration, in ms.

use std::time::Duration;

use serde::Serialize;

/// Distribution of a per-participant duration, ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Millis {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Millis {
    pub fn of(mut v: Vec<Duration>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort();
        let at = |q: f64| {
            let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
            v[i].as_secs_f64() * 1e3
        };
        Millis {
            count: v.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}
