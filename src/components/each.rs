//! `For`, as Leptos's, but compiled once. Leptos's is generic over its
//! items, their keys and their views, so each of the console's eight lists
//! added its own copy of the keyed diff, its moves and its mounting (README,
//! console size notes). This one hands Leptos's a single item type, a
//! key and a value behind `dyn`, and each use adds only its own closures.
//! Pages import it by name, which takes precedence over the prelude's.

use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use leptos::prelude::*;

/// A key of any type, compared and hashed as that type.
#[derive(Clone)]
struct Key(Arc<dyn DynKey + Send + Sync>);

/// What the keyed diff asks of a key, without naming its type.
trait DynKey {
    fn as_any(&self) -> &dyn Any;
    fn eq_dyn(&self, other: &dyn Any) -> bool;
    fn hash_dyn(&self, state: &mut dyn Hasher);
}

impl<K: Eq + Hash + 'static> DynKey for K {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn eq_dyn(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<K>() == Some(self)
    }

    fn hash_dyn(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_dyn(other.0.as_any())
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash_dyn(state);
    }
}

/// One item with its key, its type erased.
struct Item {
    key: Key,
    value: Box<dyn Any + Send>,
}

/// What the list's items are, as [`Item`]s.
type Items = Box<dyn Fn() -> Vec<Item> + Send>;
/// The view of one item.
type Row = Arc<dyn Fn(Box<dyn Any + Send>) -> AnyView + Send + Sync>;

/// A view per item of `each`, kept while its `key` stays in the list:
/// items that keep their key are moved, not rebuilt.
#[component]
pub fn For<T, K, N, I, E, KF, C>(
    /// The items, read again whenever a signal they read changes.
    each: E,
    /// Names an item across changes of the list.
    key: KF,
    /// The view of one item.
    children: C,
) -> impl IntoView
where
    T: Send + 'static,
    K: Eq + Hash + Send + Sync + 'static,
    N: IntoView + 'static,
    I: IntoIterator<Item = T>,
    E: Fn() -> I + Send + Sync + 'static,
    KF: Fn(&T) -> K + Send + Sync + 'static,
    C: Fn(T) -> N + Send + Sync + 'static,
{
    let items: Items = Box::new(move || {
        each()
            .into_iter()
            .map(|value| Item {
                key: Key(Arc::new(key(&value))),
                value: Box::new(value),
            })
            .collect()
    });
    let row: Row = Arc::new(move |value| {
        // Every value was boxed as a `T` just above.
        let value = value.downcast::<T>().unwrap_or_else(|_| unreachable!());
        children(*value).into_any()
    });
    keyed(items, row)
}

fn keyed(items: Items, row: Row) -> AnyView {
    leptos::prelude::For(
        leptos::control_flow::ForProps::builder()
            .each(items)
            .key(|item: &Item| item.key.clone())
            .children(move |item: Item| row(item.value))
            .build(),
    )
    .into_any()
}
