//! The default blob backend: one file per object under a root directory.
//!
//! `put` writes to a temporary file in `{root}/.tmp/` (same file system, so the final `rename`
//! is atomic), fsyncs it, renames it over `{root}/{key}` and fsyncs the directory. A reader that
//! opened the old file keeps reading the old bytes; one that opens after the rename reads the
//! new ones; nobody ever opens a half-written file. Keys cannot contain `.`, so no key ever
//! names a temporary file or the `.tmp` directory.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::StreamExt;
use tokio::fs;
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use super::{validate_key, Blob, BlobStore, BlobStream};
use crate::error::{Error, Result};

/// Name of the directory, under the root, where uploads are written before their rename.
const TMP_DIR: &str = ".tmp";
/// Temporary files older than this are debris of a crash and are removed at start-up.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// Size of the chunks `get` reads.
const READ_CHUNK: usize = 64 * 1024;
/// Mode of the directories the store creates: the owner's alone. Users' files are nobody
/// else's business on a shared machine, and the umask of whoever starts the server is no
/// guarantee (0644 files are the common default).
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// Mode of the objects the store writes (set on the temporary file, kept by the rename).
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// A recursive directory builder creating [`DIR_MODE`] directories.
fn private_dir_builder() -> std::fs::DirBuilder {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder
}

/// Objects as files under a root directory. Right for one instance, or several sharing one
/// (POSIX) file system.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl LocalBlobStore {
    /// A store rooted at `root`, created (with its `.tmp` directory) if missing. Directories
    /// the store creates are 0700 and the objects it writes 0600 (on Unix); an existing root
    /// keeps its mode. Leftover
    /// temporary files older than a day, from a crash mid-upload, are removed.
    ///
    /// # Errors
    /// [`Error::Config`] when the directories cannot be created.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let tmp = root.join(TMP_DIR);
        private_dir_builder().create(&tmp).map_err(|e| {
            Error::Config(format!(
                "cannot create blob directory {}: {e}",
                tmp.display()
            ))
        })?;
        sweep_stale(&tmp);
        Ok(Self { root, tmp })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    /// Whether the root is still there: tells "no such object" from "disk gone".
    async fn root_reachable(&self) -> bool {
        fs::metadata(&self.root)
            .await
            .is_ok_and(|meta| meta.is_dir())
    }

    /// Streams `body` into the temporary file at `temp`, durably. Returns the size.
    async fn write_temp(temp: &Path, mut body: BlobStream) -> Result<u64> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(FILE_MODE);
        let mut file = options.open(temp).await.map_err(unavailable_if_missing)?;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await.map_err(io_error)?;
            size += chunk.len() as u64;
        }
        file.flush().await.map_err(io_error)?;
        file.sync_all().await.map_err(io_error)?;
        Ok(size)
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, body: BlobStream) -> Result<u64> {
        let target = self.path_of(key)?;
        let temp = TempFile(Some(
            self.tmp.join(format!("{}.part", Uuid::now_v7().simple())),
        ));
        let outcome = async {
            let size = Self::write_temp(temp.path(), body).await?;
            if let Some(parent) = target.parent() {
                let mut builder = fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                builder.mode(DIR_MODE);
                builder
                    .create(parent)
                    .await
                    .map_err(unavailable_if_missing)?;
            }
            fs::rename(temp.path(), &target)
                .await
                .map_err(unavailable_if_missing)?;
            Ok(size)
        }
        .await;
        match outcome {
            Ok(size) => {
                temp.disarm();
                // Make the rename itself durable; the bytes already are.
                if let Some(parent) = target.parent() {
                    sync_dir(parent).await;
                }
                Ok(size)
            }
            Err(error) => {
                if let Some(path) = temp.disarm() {
                    let _ = fs::remove_file(path).await;
                }
                Err(error)
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Blob> {
        let path = self.path_of(key)?;
        let file = match fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if is_missing(&e) => {
                return Err(if self.root_reachable().await {
                    Error::NotFound
                } else {
                    Error::Unavailable(format!("blob root {} is gone", self.root.display()))
                });
            }
            Err(e) => return Err(io_error(e)),
        };
        let meta = file.metadata().await.map_err(io_error)?;
        if !meta.is_file() {
            // The key names an owner's directory, not an object.
            return Err(Error::NotFound);
        }
        let stream =
            ReaderStream::with_capacity(file, READ_CHUNK).map(|chunk| chunk.map_err(io_error));
        Ok(Blob {
            size: meta.len(),
            stream: stream.boxed(),
        })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            // Missing, or a directory rather than an object: either way no object to delete.
            Err(e) if is_missing(&e) || e.kind() == io::ErrorKind::IsADirectory => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        let path = self.path_of(key)?;
        match fs::metadata(&path).await {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if is_missing(&e) => {
                if self.root_reachable().await {
                    Ok(false)
                } else {
                    Err(Error::Unavailable(format!(
                        "blob root {} is gone",
                        self.root.display()
                    )))
                }
            }
            Err(e) => Err(io_error(e)),
        }
    }
}

/// A temporary file removed when dropped, unless disarmed: covers a `put` whose future is
/// dropped mid-upload (a client that disconnects), where no error path runs.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    fn disarm(mut self) -> Option<PathBuf> {
        self.0.take()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // A blocking unlink on the cancellation path only: cheap, and there is no runtime
            // guarantee left to do it asynchronously.
            let _ = std::fs::remove_file(path);
        }
    }
}

fn is_missing(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// IO errors of writes: a missing directory means the root vanished (unmounted disk).
fn unavailable_if_missing(error: io::Error) -> Error {
    if error.kind() == io::ErrorKind::NotFound {
        Error::Unavailable(error.to_string())
    } else {
        io_error(error)
    }
}

/// Disk trouble the operator can fix without a deploy is [`Error::Unavailable`] (503: retry
/// later); anything else (permissions, a key colliding with a directory) is a server fault.
fn io_error(error: io::Error) -> Error {
    use io::ErrorKind as K;
    /// `EIO`: the same number on Linux, the BSDs and macOS.
    const EIO: i32 = 5;
    let unavailable = matches!(
        error.kind(),
        K::StorageFull
            | K::ReadOnlyFilesystem
            | K::StaleNetworkFileHandle
            | K::TimedOut
            | K::ResourceBusy
            | K::NotConnected
    ) || (cfg!(unix) && error.raw_os_error() == Some(EIO));
    if unavailable {
        Error::Unavailable(error.to_string())
    } else {
        Error::Internal(error.to_string())
    }
}

/// fsyncs a directory so a rename in it survives a crash. Best effort: not every platform lets
/// a directory be opened.
async fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir).await {
        let _ = handle.sync_all().await;
    }
}

/// Removes temporary files older than [`STALE_AFTER`]. Younger ones may belong to an upload in
/// progress in another process sharing the directory.
fn sweep_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| {
                now.duration_since(modified)
                    .is_ok_and(|age| age > STALE_AFTER)
            });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use futures::stream;

    use super::*;
    use crate::blob::{object_key, suite};

    fn store() -> (tempfile::TempDir, LocalBlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path().join("blobs")).unwrap();
        (dir, store)
    }

    fn tmp_entries(store: &LocalBlobStore) -> usize {
        std::fs::read_dir(store.root().join(TMP_DIR))
            .unwrap()
            .count()
    }

    #[tokio::test]
    async fn round_trip() {
        let (_dir, store) = store();
        suite::round_trip(&store).await;
    }

    #[tokio::test]
    async fn overwrite() {
        let (_dir, store) = store();
        suite::overwrite_replaces_the_object(&store).await;
    }

    #[tokio::test]
    async fn delete_is_idempotent() {
        let (_dir, store) = store();
        suite::delete_is_idempotent(&store).await;
    }

    #[tokio::test]
    async fn missing_is_not_found() {
        let (_dir, store) = store();
        suite::missing_is_not_found(&store).await;
    }

    #[tokio::test]
    async fn empty_object() {
        let (_dir, store) = store();
        suite::empty_object(&store).await;
    }

    #[tokio::test]
    async fn failing_stream_leaves_nothing_behind() {
        let (_dir, store) = store();
        suite::failing_stream_leaves_nothing(&store).await;
        assert_eq!(tmp_entries(&store), 0, "temporary file left in .tmp");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_readers_never_see_partial_objects() {
        let (_dir, store) = store();
        suite::concurrent_readers_never_see_partial_objects(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn bad_keys_are_refused() {
        let (_dir, store) = store();
        suite::bad_keys_are_refused(&store).await;
        // Nothing was written outside (or inside) the root.
        let names: Vec<_> = std::fs::read_dir(store.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [TMP_DIR]);
    }

    #[tokio::test]
    async fn ingest_limit_leaves_nothing() {
        let (_dir, store) = store();
        suite::ingest_over_the_limit_leaves_nothing(&store).await;
        assert_eq!(tmp_entries(&store), 0);
    }

    #[tokio::test]
    async fn a_dropped_put_leaves_nothing_behind() {
        let (_dir, store) = store();
        let key = object_key(Uuid::now_v7(), Uuid::now_v7());
        // One chunk, then a client that never sends the rest.
        let body = stream::iter([Ok(Bytes::from_static(b"half an upload"))])
            .chain(stream::pending())
            .boxed();
        let put = store.put(&key, body);
        let timed_out = tokio::time::timeout(Duration::from_millis(100), put).await;
        assert!(timed_out.is_err(), "the put should still be waiting");
        assert_eq!(
            tmp_entries(&store),
            0,
            "cancelled put left its temporary file"
        );
        assert!(!store.exists(&key).await.unwrap());
    }

    #[tokio::test]
    async fn objects_are_files_under_the_root_by_key() {
        let (_dir, store) = store();
        let owner = Uuid::now_v7();
        let key = object_key(owner, Uuid::now_v7());
        store
            .put(&key, stream::iter([Ok(Bytes::from_static(b"hi"))]).boxed())
            .await
            .unwrap();
        let on_disk = std::fs::read(store.root().join(&key)).unwrap();
        assert_eq!(on_disk, b"hi");
        // A key naming the owner's directory is no object.
        let owner_dir = owner.to_string();
        assert!(!store.exists(&owner_dir).await.unwrap());
        assert!(matches!(store.get(&owner_dir).await, Err(Error::NotFound)));
        store.delete(&owner_dir).await.unwrap();
        assert!(store.exists(&key).await.unwrap());
    }

    #[tokio::test]
    async fn a_vanished_root_is_unavailable_not_missing() {
        let (_dir, store) = store();
        std::fs::remove_dir_all(store.root()).unwrap();
        let key = object_key(Uuid::now_v7(), Uuid::now_v7());
        assert!(matches!(store.get(&key).await, Err(Error::Unavailable(_))));
        assert!(matches!(
            store.exists(&key).await,
            Err(Error::Unavailable(_))
        ));
        let body = stream::iter([Ok(Bytes::from_static(b"x"))]).boxed();
        assert!(matches!(
            store.put(&key, body).await,
            Err(Error::Unavailable(_))
        ));
    }

    #[test]
    fn stale_temporary_files_are_swept_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(TMP_DIR);
        std::fs::create_dir_all(&tmp).unwrap();
        let old = tmp.join("old.part");
        let young = tmp.join("young.part");
        std::fs::write(&old, b"debris").unwrap();
        std::fs::write(&young, b"in progress").unwrap();
        let long_ago = SystemTime::now() - 2 * STALE_AFTER;
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        LocalBlobStore::new(dir.path()).unwrap();
        assert!(!old.exists());
        assert!(young.exists());
    }

    /// Everything the store creates is its owner's alone: the root, `.tmp`, the owners'
    /// directories (0700) and the objects (0600), whatever the umask would allow.
    #[cfg(unix)]
    #[tokio::test]
    async fn created_directories_and_objects_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let (dir, store) = store();
        let key = object_key(Uuid::now_v7(), Uuid::now_v7());
        store
            .put(
                &key,
                stream::iter([Ok(Bytes::from_static(b"private"))]).boxed(),
            )
            .await
            .unwrap();
        let object = store.root().join(&key);
        let owner_dir = object.parent().unwrap().to_path_buf();
        assert_eq!(mode(&object), 0o600, "object");
        for created in [store.root(), &store.root().join(TMP_DIR), &owner_dir] {
            assert_eq!(mode(created), 0o700, "{}", created.display());
        }
        // A replacement is written anew, with the same mode.
        store
            .put(
                &key,
                stream::iter([Ok(Bytes::from_static(b"again"))]).boxed(),
            )
            .await
            .unwrap();
        assert_eq!(mode(&object), 0o600, "replaced object");
        // An existing root keeps the mode its operator gave it.
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o750)).unwrap();
        let store = LocalBlobStore::new(&shared).unwrap();
        assert_eq!(mode(store.root()), 0o750);
        assert_eq!(mode(&store.root().join(TMP_DIR)), 0o700);
    }

    #[test]
    fn an_unusable_root_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        assert!(matches!(LocalBlobStore::new(&file), Err(Error::Config(_))));
    }
}
