//! The handle table: `u64` handles for clients, users and layers.
//!
//! ## Handle layout
//!
//! ```text
//!  63      56 55                      24 23                 0
//! +----------+--------------------------+--------------------+
//! | type tag |  generation (32 bits)    |  slot index (24)   |
//! +----------+--------------------------+--------------------+
//! ```
//!
//! The tag is `0xC1` for clients, `0xD5` for users and `0xA9` for layers,
//! so 0, small integers and user-space pointers are never valid handles. A slot's
//! generation starts at 1 and grows each time the slot is reused, so a
//! released handle stays invalid after its slot is reissued (until that
//! one slot has been reused 2^32 times).
//!
//! ## Why this structure (no lock on the lookup path)
//!
//! The table is an append-only slab: a fixed directory of 4096 lazily
//! allocated segments of 4096 slots, each slot an `ArcSwapOption<Entry>`.
//! A lookup is: decode, index the directory (a `OnceLock` read), one
//! lock-free `load` of the slot (an `arc_swap` guard: no reference-count
//! write in the common case, so threads sharing one client do not contend
//! on its count), and a generation and tag check. It takes no lock and
//! never blocks, so any number of threads evaluate concurrently. The guard
//! protects the entry like an `Arc` would: a concurrent release only
//! removes the slot's reference, and the object is freed when the last
//! in-flight call drops its guard.
//!
//! Only issuing and releasing handles take a mutex (the free list); a
//! release is a compare-and-swap of the exact entry looked up, so of two
//! racing releases of one handle exactly one succeeds.

use crate::status::Error;
use arc_swap::ArcSwapOption;
use gatehouse::{Client, Layer, User};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const SEGMENT_BITS: u32 = 12;
const SEGMENT_LEN: usize = 1 << SEGMENT_BITS;
const SEGMENTS: usize = 1 << (INDEX_BITS - SEGMENT_BITS);
const TAG_SHIFT: u32 = 56;

/// What a handle names; the tag in the handle's top byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    Client = 0xC1,
    User = 0xD5,
    Layer = 0xA9,
}

impl Tag {
    fn of(handle: u64) -> Option<Tag> {
        match handle >> TAG_SHIFT {
            0xC1 => Some(Tag::Client),
            0xD5 => Some(Tag::User),
            0xA9 => Some(Tag::Layer),
            _ => None,
        }
    }
}

/// A live object. Each lives in its own `Arc<Entry>`, so the variants'
/// size difference costs one allocation's slack, not table space.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Object {
    Client(Client),
    User(User),
    /// One layer evaluation, held so that parameter exposures are logged
    /// from it (`gatehouse_layer_open`).
    Layer(Layer),
}

impl Object {
    fn tag(&self) -> Tag {
        match self {
            Object::Client(_) => Tag::Client,
            Object::User(_) => Tag::User,
            Object::Layer(_) => Tag::Layer,
        }
    }
}

/// What a slot holds: the object and the generation it was issued under.
pub(crate) struct Entry {
    generation: u32,
    pub object: Object,
}

type Segment = Box<[ArcSwapOption<Entry>]>;

struct Table {
    segments: Box<[OnceLock<Segment>]>,
    alloc: Mutex<Alloc>,
}

#[derive(Default)]
struct Alloc {
    /// Released slots with the generation they were last issued under.
    free: Vec<(u32, u32)>,
    /// Slots never issued start here.
    next: u32,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| Table {
    segments: (0..SEGMENTS).map(|_| OnceLock::new()).collect(),
    alloc: Mutex::new(Alloc::default()),
});

fn encode(tag: Tag, generation: u32, index: u32) -> u64 {
    ((tag as u64) << TAG_SHIFT) | (u64::from(generation) << INDEX_BITS) | u64::from(index)
}

fn new_segment() -> Segment {
    (0..SEGMENT_LEN).map(|_| ArcSwapOption::empty()).collect()
}

impl Table {
    fn slot(&self, index: u32) -> Option<&ArcSwapOption<Entry>> {
        let i = index as usize;
        let segment = self.segments.get(i >> SEGMENT_BITS)?.get()?;
        segment.get(i & (SEGMENT_LEN - 1))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Alloc> {
        // The free list is only pushed/popped whole items; a poisoned lock
        // still holds a consistent list.
        self.alloc.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Store `object` and return its handle.
pub(crate) fn insert(object: Object) -> Result<u64, Error> {
    let table = &*TABLE;
    let tag = object.tag();
    let mut alloc = table.lock();
    let (index, generation) = match alloc.free.pop() {
        Some((index, last)) => (index, last.checked_add(1).unwrap_or(1)),
        None => {
            let index = alloc.next;
            if u64::from(index) > INDEX_MASK {
                return Err(Error::HandleLimit);
            }
            let seg = index as usize >> SEGMENT_BITS;
            table.segments[seg].get_or_init(new_segment);
            alloc.next += 1;
            (index, 1)
        }
    };
    let Some(slot) = table.slot(index) else {
        // Unreachable: the segment was initialized above or when the slot
        // was first issued. Keep the slot out of circulation.
        return Err(Error::HandleLimit);
    };
    slot.store(Some(Arc::new(Entry { generation, object })));
    Ok(encode(tag, generation, index))
}

fn find(handle: u64, want: Tag) -> Result<(Arc<Entry>, &'static ArcSwapOption<Entry>), Error> {
    let tag = Tag::of(handle).ok_or(Error::InvalidHandle)?;
    let index = u32::try_from(handle & INDEX_MASK).map_err(|_| Error::InvalidHandle)?;
    let generation = ((handle >> INDEX_BITS) & 0xFFFF_FFFF) as u32;
    let slot = TABLE.slot(index).ok_or(Error::InvalidHandle)?;
    let entry = slot.load_full().ok_or(Error::InvalidHandle)?;
    if entry.generation != generation || entry.object.tag() != tag {
        return Err(Error::InvalidHandle);
    }
    if tag != want {
        return Err(Error::WrongHandleType);
    }
    Ok((entry, slot))
}

/// An entry loaded for the length of one call. An `arc_swap` guard, not an
/// `Arc` clone: in the common case it writes nothing shared (no reference
/// count traffic on a client that every thread uses), yet a release racing
/// the call still cannot free the object before the guard is dropped.
type Loaded = arc_swap::Guard<Option<Arc<Entry>>>;

/// The live entry behind `handle` with `want`'s tag, as a guard.
///
/// `WrongHandleType` only for a *live* handle of the other type; a
/// released or never-issued handle is `InvalidHandle` whatever its tag.
fn load(handle: u64, want: Tag) -> Result<Loaded, Error> {
    let tag = Tag::of(handle).ok_or(Error::InvalidHandle)?;
    let index = u32::try_from(handle & INDEX_MASK).map_err(|_| Error::InvalidHandle)?;
    let generation = ((handle >> INDEX_BITS) & 0xFFFF_FFFF) as u32;
    let slot = TABLE.slot(index).ok_or(Error::InvalidHandle)?;
    let guard = slot.load();
    match &*guard {
        Some(entry) if entry.generation == generation && entry.object.tag() == tag => {
            if tag == want {
                Ok(guard)
            } else {
                Err(Error::WrongHandleType)
            }
        }
        _ => Err(Error::InvalidHandle),
    }
}

/// A live client, borrowed for one call.
pub(crate) struct ClientRef(Loaded);

/// A live user, borrowed for one call.
pub(crate) struct UserRef(Loaded);

/// A live layer, borrowed for one call.
pub(crate) struct LayerRef(Loaded);

impl std::ops::Deref for ClientRef {
    type Target = Client;

    fn deref(&self) -> &Client {
        match self.0.as_deref().map(|e| &e.object) {
            Some(Object::Client(c)) => c,
            // Invariant: `client()` builds a ClientRef only over a loaded
            // client entry, and the guard keeps exactly that value.
            _ => unreachable!("ClientRef over a non-client entry"),
        }
    }
}

impl std::ops::Deref for UserRef {
    type Target = User;

    fn deref(&self) -> &User {
        match self.0.as_deref().map(|e| &e.object) {
            Some(Object::User(u)) => u,
            // Invariant: `user()` builds a UserRef only over a loaded user
            // entry, and the guard keeps exactly that value.
            _ => unreachable!("UserRef over a non-user entry"),
        }
    }
}

impl std::ops::Deref for LayerRef {
    type Target = Layer;

    fn deref(&self) -> &Layer {
        match self.0.as_deref().map(|e| &e.object) {
            Some(Object::Layer(l)) => l,
            // Invariant: `layer()` builds a LayerRef only over a loaded
            // layer entry, and the guard keeps exactly that value.
            _ => unreachable!("LayerRef over a non-layer entry"),
        }
    }
}

/// The client behind a handle: one lock-free load, no reference count.
pub(crate) fn client(handle: u64) -> Result<ClientRef, Error> {
    let guard = load(handle, Tag::Client)?;
    match guard.as_deref().map(|e| &e.object) {
        Some(Object::Client(_)) => Ok(ClientRef(guard)),
        _ => Err(Error::WrongHandleType),
    }
}

/// The user behind a handle: one lock-free load, no reference count.
pub(crate) fn user(handle: u64) -> Result<UserRef, Error> {
    let guard = load(handle, Tag::User)?;
    match guard.as_deref().map(|e| &e.object) {
        Some(Object::User(_)) => Ok(UserRef(guard)),
        _ => Err(Error::WrongHandleType),
    }
}

/// The layer behind a handle: one lock-free load, no reference count.
pub(crate) fn layer(handle: u64) -> Result<LayerRef, Error> {
    let guard = load(handle, Tag::Layer)?;
    match guard.as_deref().map(|e| &e.object) {
        Some(Object::Layer(_)) => Ok(LayerRef(guard)),
        _ => Err(Error::WrongHandleType),
    }
}

/// Release `handle`. A second release of it, or a release racing another,
/// fails with `InvalidHandle`.
pub(crate) fn release(handle: u64, want: Tag) -> Result<(), Error> {
    let (entry, slot) = find(handle, want)?;
    let previous = slot.compare_and_swap(&entry, None);
    let won = previous.as_ref().is_some_and(|p| Arc::ptr_eq(p, &entry));
    drop(previous);
    if !won {
        return Err(Error::InvalidHandle);
    }
    let index = (handle & INDEX_MASK) as u32;
    TABLE.lock().free.push((index, entry.generation));
    // `entry` (and the object, unless a call still holds it) drops here.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Object {
        Object::User(User::from_json_str(r#"{"userID":"u"}"#).expect("valid user"))
    }

    #[test]
    fn stale_double_and_wrong_type_handles_fail() {
        let h = insert(user()).expect("insert");
        assert!(load(h, Tag::User).is_ok());
        assert!(matches!(
            load(h, Tag::Client).map(|_| ()),
            Err(Error::WrongHandleType)
        ));
        release(h, Tag::User).expect("first release");
        assert!(matches!(
            load(h, Tag::User).map(|_| ()),
            Err(Error::InvalidHandle)
        ));
        assert!(matches!(release(h, Tag::User), Err(Error::InvalidHandle)));
        // The slot is reused under a new generation; the old handle stays dead.
        let h2 = insert(user()).expect("insert");
        assert_ne!(h, h2);
        assert!(matches!(
            load(h, Tag::User).map(|_| ()),
            Err(Error::InvalidHandle)
        ));
        release(h2, Tag::User).expect("release");
    }

    #[test]
    fn dead_or_unissued_handles_of_the_other_type_are_invalid_not_wrong_type() {
        let h = insert(user()).expect("insert");
        release(h, Tag::User).expect("release");
        // A released user handle offered as a client: dead, so invalid.
        assert!(matches!(
            load(h, Tag::Client).map(|_| ()),
            Err(Error::InvalidHandle)
        ));
        assert!(matches!(release(h, Tag::Client), Err(Error::InvalidHandle)));
        // A never-issued handle with the client tag offered as a user.
        let unissued = encode(Tag::Client, 0, 0);
        assert!(matches!(
            load(unissued, Tag::User).map(|_| ()),
            Err(Error::InvalidHandle)
        ));
    }

    #[test]
    fn layer_handles_have_their_own_tag() {
        let client = Client::new(gatehouse::Options::from_json("{}")).expect("client without I/O");
        let u = User::from_json_str(r#"{"userID":"u"}"#).expect("valid user");
        let layer = insert(Object::Layer(client.get_layer(&u, "l"))).expect("insert");
        assert_eq!(layer >> TAG_SHIFT, 0xA9);
        assert!(super::layer(layer).is_ok());
        for wrong in [Tag::Client, Tag::User] {
            assert!(matches!(
                load(layer, wrong).map(|_| ()),
                Err(Error::WrongHandleType)
            ));
            assert!(matches!(release(layer, wrong), Err(Error::WrongHandleType)));
        }
        let h = insert(user()).expect("insert");
        assert!(matches!(
            super::layer(h).map(|_| ()),
            Err(Error::WrongHandleType)
        ));
        release(h, Tag::User).expect("release");
        release(layer, Tag::Layer).expect("release");
        assert!(matches!(
            super::layer(layer).map(|_| ()),
            Err(Error::InvalidHandle)
        ));
        assert!(matches!(
            release(layer, Tag::Layer),
            Err(Error::InvalidHandle)
        ));
    }

    #[test]
    fn never_issued_handles_fail() {
        for h in [
            0,
            1,
            u64::MAX,
            encode(Tag::User, 7, 0xFF_FFFF),
            0x7fff_0000_1000,
        ] {
            assert!(load(h, Tag::User).is_err(), "{h:#x}");
        }
    }
}
