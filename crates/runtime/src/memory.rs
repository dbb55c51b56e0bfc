//! Guest memory limits: one for each instance's linear memories, and one
//! budget for all guests of the server together (rooms and http requests),
//! so that many rooms each at their own limit can't add up to more memory
//! than the machine has.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmtime::ResourceLimiter;

/// Why a guest didn't get the memory it asked for. Growth past a limit is a
/// trap carrying this error, so the room or request ends with its reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryRefused {
    #[error("it needed more than its memory limit of {mib} MiB")]
    Instance { mib: usize },
    #[error(
        "the server's memory for guests is used up ({mib} MiB in all, --guest-memory-mib); try again later"
    )]
    Server { mib: usize },
}

impl MemoryRefused {
    /// The refusal inside a wasmtime error, if that is what it is.
    pub fn find(e: &wasmtime::Error) -> Option<&MemoryRefused> {
        e.chain()
            .find_map(|cause| cause.downcast_ref::<MemoryRefused>())
    }
}

/// The bytes of linear memory all guests may hold together.
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    inner: Arc<Budget>,
}

#[derive(Debug)]
struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            inner: Arc::new(Budget {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// Half of this machine's memory (8 GiB when it can't be read).
    pub fn half_of_machine() -> Self {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
                kib.checked_mul(1024)
            })
            .unwrap_or(16 << 30);
        Self::new(total / 2)
    }

    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes held by guests now.
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    fn reserve(&self, bytes: usize) -> bool {
        self.inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&n| n <= self.inner.limit)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        self.inner.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// The most elements a guest's table may grow to: tables live in host
/// memory, outside the guest memory budget.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// The limits of one guest instance: `memory_bytes` per linear memory, its
/// growth drawn from the server's [`MemoryBudget`] and given back when the
/// instance's store is dropped, and room for the instances and tables a
/// component is made of.
pub(crate) struct GuestLimits {
    memory_bytes: usize,
    budget: MemoryBudget,
    /// Bytes this instance holds in the budget.
    reserved: usize,
    /// The growth last approved, given back if it then fails.
    last_growth: usize,
}

impl GuestLimits {
    pub fn new(memory_bytes: usize, budget: MemoryBudget) -> Self {
        Self {
            memory_bytes,
            budget,
            reserved: 0,
            last_growth: 0,
        }
    }
}

impl ResourceLimiter for GuestLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes || maximum.is_some_and(|max| desired > max) {
            return Err(MemoryRefused::Instance {
                mib: self.memory_bytes >> 20,
            }
            .into());
        }
        let growth = desired.saturating_sub(current);
        if !self.budget.reserve(growth) {
            return Err(MemoryRefused::Server {
                mib: self.budget.limit() >> 20,
            }
            .into());
        }
        self.reserved += growth;
        self.last_growth = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.budget.release(self.last_growth);
        self.reserved -= self.last_growth;
        self.last_growth = 0;
        Err(error.context("growing memory failed"))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS && maximum.is_none_or(|max| desired <= max))
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        8
    }
}

impl Drop for GuestLimits {
    fn drop(&mut self) {
        self.budget.release(self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_draws_from_the_budget_and_dropping_gives_it_back() {
        let budget = MemoryBudget::new(10 << 20);
        let mut a = GuestLimits::new(8 << 20, budget.clone());
        let mut b = GuestLimits::new(8 << 20, budget.clone());
        assert!(a.memory_growing(0, 6 << 20, None).unwrap());
        let refused = b.memory_growing(0, 6 << 20, None).unwrap_err();
        assert_eq!(
            MemoryRefused::find(&refused),
            Some(&MemoryRefused::Server { mib: 10 })
        );
        let refused = a.memory_growing(6 << 20, 9 << 20, None).unwrap_err();
        assert_eq!(
            MemoryRefused::find(&refused),
            Some(&MemoryRefused::Instance { mib: 8 })
        );
        drop(a);
        assert_eq!(budget.used(), 0);
        assert!(b.memory_growing(0, 6 << 20, None).unwrap());
        assert_eq!(budget.used(), 6 << 20);
    }
}
