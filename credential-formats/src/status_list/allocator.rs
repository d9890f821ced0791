//! Random, never-repeated index allocation for the Status Issuer (§12.5.1, §13.3).
//!
//! Sequential indices leak issuance order and volume and let colluding Relying Parties
//! correlate batch copies; the draft recommends random ones and forbids double allocation.
//! Each allocation draws uniformly among the *free* indices, so the distribution does not
//! degrade as the list fills up.

use super::StatusListError;
use crate::crypto::fill_random;

/// Hands out the indices of a Status List of fixed capacity, uniformly at random among the
/// free ones, never the same twice.
///
/// The issuer persists every index it allocates (alongside the credential) and rebuilds the
/// allocator after a restart with [`IndexAllocator::from_used`].
#[derive(Clone, PartialEq, Eq)]
pub struct IndexAllocator {
    capacity: u32,
    used: Vec<u64>,
    used_count: u32,
}

impl std::fmt::Debug for IndexAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexAllocator")
            .field("capacity", &self.capacity)
            .field("used", &self.used_count)
            .finish()
    }
}

impl IndexAllocator {
    /// An allocator for indices `0..capacity`, none used.
    pub fn new(capacity: u32) -> Result<IndexAllocator, StatusListError> {
        if capacity == 0 {
            return Err(StatusListError::Empty);
        }
        let words = usize::try_from(capacity.div_ceil(64))
            .map_err(|_| StatusListError::CapacityTooLarge)?;
        Ok(IndexAllocator {
            capacity,
            used: vec![0; words],
            used_count: 0,
        })
    }

    /// Restores an allocator from the indices already handed out. An index out of range, or
    /// the same index twice, means the issuer's records are corrupt: both are refused.
    pub fn from_used(
        capacity: u32,
        used: impl IntoIterator<Item = u32>,
    ) -> Result<IndexAllocator, StatusListError> {
        let mut allocator = IndexAllocator::new(capacity)?;
        for index in used {
            if allocator.is_used(index)? {
                return Err(StatusListError::DoubleAllocation);
            }
            allocator.mark(index)?;
        }
        Ok(allocator)
    }

    /// The number of indices in the list.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// How many indices are still free.
    pub fn remaining(&self) -> u32 {
        self.capacity - self.used_count
    }

    /// Whether `index` has been allocated.
    pub fn is_used(&self, index: u32) -> Result<bool, StatusListError> {
        let (word, bit) = self.slot(index)?;
        Ok(self.used.get(word).is_some_and(|w| w & bit != 0))
    }

    /// The allocated indices, in increasing order (for persisting or auditing).
    pub fn used_indices(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.capacity).filter(|&i| self.is_used(i).unwrap_or(false))
    }

    /// Allocates a free index, uniformly at random among the free ones.
    pub fn allocate(&mut self) -> crate::Result<u32> {
        let free = self.remaining();
        if free == 0 {
            return Err(StatusListError::Exhausted.into());
        }
        let rank = uniform_below(free)?;
        let index = self.nth_free(rank).ok_or(StatusListError::Exhausted)?;
        self.mark(index)?;
        Ok(index)
    }

    fn slot(&self, index: u32) -> Result<(usize, u64), StatusListError> {
        if index >= self.capacity {
            return Err(StatusListError::IndexOutOfRange);
        }
        let word = usize::try_from(index / 64).map_err(|_| StatusListError::IndexOutOfRange)?;
        Ok((word, 1u64 << (index % 64)))
    }

    fn mark(&mut self, index: u32) -> Result<(), StatusListError> {
        let (word, bit) = self.slot(index)?;
        let slot = self
            .used
            .get_mut(word)
            .ok_or(StatusListError::IndexOutOfRange)?;
        if *slot & bit == 0 {
            *slot |= bit;
            self.used_count += 1;
        }
        Ok(())
    }

    /// The `rank`-th free index (0-based), counting whole words with `count_zeros` so a
    /// million-entry list costs ~16k word operations per allocation.
    fn nth_free(&self, mut rank: u32) -> Option<u32> {
        for (word_index, &word) in self.used.iter().enumerate() {
            let base = u32::try_from(word_index).ok()?.checked_mul(64)?;
            // Bits past the capacity in the last word are not indices: count them as used.
            let valid = self.capacity.saturating_sub(base).min(64);
            let mask = if valid == 64 {
                u64::MAX
            } else {
                (1u64 << valid) - 1
            };
            let free_here = (!word & mask).count_ones();
            if rank >= free_here {
                rank -= free_here;
                continue;
            }
            let mut free_bits = !word & mask;
            for _ in 0..rank {
                free_bits &= free_bits - 1;
            }
            return Some(base + free_bits.trailing_zeros());
        }
        None
    }
}

/// A uniformly random integer in `0..n` (`n > 0`), by rejection sampling: values in the
/// incomplete last block of `n` are redrawn, so there is no modulo bias.
fn uniform_below(n: u32) -> crate::Result<u32> {
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let mut buf = [0u8; 4];
        fill_random(&mut buf)?;
        let x = u32::from_le_bytes(buf);
        if x < zone {
            return Ok(x % n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn status_list_14_13_3_never_allocates_twice_and_exhausts() {
        let mut allocator = IndexAllocator::new(130).unwrap();
        let mut seen = HashSet::new();
        for _ in 0..130 {
            let index = allocator.allocate().unwrap();
            assert!(index < 130);
            assert!(seen.insert(index), "index {index} allocated twice");
        }
        assert_eq!(allocator.remaining(), 0);
        assert_eq!(
            allocator.allocate(),
            Err(crate::Error::StatusList(StatusListError::Exhausted))
        );
        assert_eq!(allocator.used_indices().count(), 130);
    }

    #[test]
    fn restores_from_used_indices() {
        let used = [0u32, 5, 63, 64, 99];
        let mut allocator = IndexAllocator::from_used(100, used).unwrap();
        assert_eq!(allocator.remaining(), 95);
        assert_eq!(allocator.used_indices().collect::<Vec<_>>(), used);
        for _ in 0..95 {
            let index = allocator.allocate().unwrap();
            assert!(!used.contains(&index));
        }
        assert!(allocator.allocate().is_err());
    }

    #[test]
    fn restore_refuses_corrupt_records() {
        assert_eq!(
            IndexAllocator::from_used(10, [1, 2, 1]),
            Err(StatusListError::DoubleAllocation)
        );
        assert_eq!(
            IndexAllocator::from_used(10, [10]),
            Err(StatusListError::IndexOutOfRange)
        );
        assert_eq!(IndexAllocator::new(0), Err(StatusListError::Empty));
    }

    #[test]
    fn status_list_14_12_5_indices_are_spread_uniformly() {
        // 4 buckets of a 64-entry list, 6400 draws from fresh allocators: each bucket should
        // get ~1600; a sequential or biased allocator lands far outside ±300.
        let mut buckets = [0u32; 4];
        for _ in 0..6400 {
            let mut allocator = IndexAllocator::from_used(64, 0..32).unwrap();
            let index = allocator.allocate().unwrap();
            assert!(index >= 32);
            buckets[usize::try_from(index / 8 - 4).unwrap()] += 1;
        }
        for count in buckets {
            assert!((1300..1900).contains(&count), "{buckets:?}");
        }
    }

    #[test]
    fn nth_free_skips_used_and_out_of_capacity_bits() {
        let allocator = IndexAllocator::from_used(70, [0, 1, 2, 65]).unwrap();
        assert_eq!(allocator.nth_free(0), Some(3));
        assert_eq!(allocator.nth_free(61), Some(64));
        assert_eq!(allocator.nth_free(62), Some(66));
        assert_eq!(allocator.nth_free(65), Some(69));
        assert_eq!(allocator.nth_free(66), None);
    }
}
