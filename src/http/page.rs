//! The one page shape of the lists that grow (users, queues, channels, audit):
//! `{items, total, limit, offset}` with `limit` 1-500 (default 50) and `offset`.

use super::error::ApiError;
use super::extract::in_range;
use serde::Serialize;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// How many items match the filters, over every page.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// A checked `limit` and `offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub limit: u32,
    pub offset: u64,
}

impl Window {
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Result<Window, ApiError> {
        in_range("limit", limit, 1, MAX_LIMIT)?;
        in_range("offset", offset, 0, i64::from(u32::MAX))?;
        Ok(Window {
            limit: limit.unwrap_or(DEFAULT_LIMIT) as u32,
            offset: offset.unwrap_or(0) as u64,
        })
    }

    pub fn page<T>(self, items: Vec<T>, total: u64) -> Page<T> {
        Page {
            items,
            total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// A `q` search term as a SQL LIKE pattern (`%term%`, wildcards escaped with `\`).
pub fn like_pattern(q: Option<&str>) -> Option<String> {
    q.map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_checked() {
        assert_eq!(
            Window::new(None, None).unwrap(),
            Window {
                limit: 50,
                offset: 0
            }
        );
        assert!(Window::new(Some(501), None).is_err());
        assert!(Window::new(Some(1), Some(-1)).is_err());
        assert_eq!(like_pattern(Some("a_%")).unwrap(), "%a\\_\\%%");
    }
}
