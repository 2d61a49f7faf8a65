#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PortcullisCore

/// Keeps the database and its `-wal` and `-shm` files readable by their owner only (0600).
///
/// The database holds password hashes, refresh-token hashes and encrypted TOTP secrets. SQLite
/// creates a missing file 0644 less the umask, so in an existing 0755 directory any local user
/// could copy it and attack the hashes offline. SQLite's unix VFS gives the `-wal`, `-shm` and
/// `-journal` files it creates the main file's mode (and re-applies it when the umask took bits
/// away), so a 0600 main file is enough for new ones; ones left from before are tightened here.
enum DatabaseFileMode {
    /// The mode of every database file.
    static let mode: mode_t = 0o600

    /// Creates `path` empty with mode 0600 when it is missing (SQLite takes an empty file as an
    /// empty database), and sets the database file and any `-wal` or `-shm` beside it to 0600.
    static func restrict(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw PortcullisError.internalFailure("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        // The umask may have removed bits from the new file; an old file may have more than 0600.
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0 else {
                if errno == ENOENT { continue }
                throw PortcullisError.internalFailure("cannot stat \(file): \(String(cString: strerror(errno)))")
            }
            guard info.st_mode & 0o7777 != mode else { continue }
            guard chmod(file, mode) == 0 else {
                throw PortcullisError.internalFailure("cannot make \(file) mode 0600: \(String(cString: strerror(errno)))")
            }
        }
    }
}
