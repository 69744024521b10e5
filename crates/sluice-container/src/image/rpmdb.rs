//! rpm's package database: the header blobs of `rpmdb.sqlite` (Fedora 33+, RHEL/Rocky/Alma 9,
//! `var/lib/rpm/rpmdb.sqlite` or `usr/lib/sysimage/rpm/rpmdb.sqlite`).
//!
//! Each row of the database's `Packages` table holds one installed package's *header* as rpm
//! stores it on disk (`headerExport`): a big-endian index count `il` and data length `dl`,
//! `il` 16-byte index entries (tag, type, offset, count) and a `dl`-byte data store. The first
//! entry is usually a *region* tag (`HEADERIMMUTABLE`, 63) whose trailer in the data store
//! marks which entries were signed; entries after the region were added at install time and
//! win over region entries of the same tag, as in rpm's `headerImport`.
//!
//! Why not a crate: the `rpm` crate (rpm-rs) reads and builds whole `.rpm` files — lead,
//! signature header, compressed payload — and pulls compression and digest dependencies in
//! for that; its header parser expects the 8-byte header magic and a file layout, not a bare
//! database blob. Only eight string/int tags are needed here, so this is a small, fully
//! bounds-checked reader. The database itself is read with SQLite (`rusqlite`), in memory.
//!
//! The older BerkeleyDB `var/lib/rpm/Packages` (CentOS 7, RHEL 7/8) and SUSE's `Packages.db`
//! (ndb) are not read; the inventory reports them as problems.

use std::io::Read;

use rusqlite::{Connection, OpenFlags, MAIN_DB};
use sluice_inventory::purl::encode;
use sluice_inventory::{Distro, Ecosystem, Location, Package, Relationship, Source};

use super::OsInfo;

/// What a header says about one installed package.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    /// `SOURCERPM`: the source rpm file name (`openssl-3.0.7-27.el9.src.rpm`).
    pub source_rpm: Option<String>,
    pub license: Option<String>,
    pub vendor: Option<String>,
}

impl RpmHeader {
    /// The version as rpm prints `%{EVR}`: `[epoch:]version-release`.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }

    /// The source package's name, from `SOURCERPM` (`name-version-release.src.rpm`).
    pub fn source_name(&self) -> Option<String> {
        let file = self.source_rpm.as_deref()?;
        let stem = file.strip_suffix(".src.rpm").or_else(|| file.strip_suffix(".nosrc.rpm"))?;
        let mut parts = stem.rsplitn(3, '-');
        let (_release, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
        (!name.is_empty()).then(|| name.to_owned())
    }

    /// rpm's `gpg-pubkey` entries are imported signing keys, not software.
    pub fn is_pseudo(&self) -> bool {
        self.name == "gpg-pubkey"
    }
}

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;
/// Region tags: `HEADERIMAGE`, `HEADERSIGNATURES`, `HEADERIMMUTABLE`.
const REGION_TAGS: [u32; 3] = [61, 62, 63];

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_BIN: u32 = 7;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own sanity limits (`hdrchkTags`, `hdrchkData` in header.c).
const MAX_INDEX: usize = 0xffff;
const MAX_DATA: usize = 256 << 20;
/// A string longer than this is not a package field; refused rather than copied.
const MAX_STRING: usize = 64 << 10;

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    let bytes =
        b.get(at..at.checked_add(4).ok_or("offset overflow")?).ok_or_else(|| format!("truncated at byte {at}"))?;
    Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Parses one header blob (as stored in a `Packages` row). Errors say what is wrong.
pub fn parse_header(blob: &[u8]) -> Result<RpmHeader, String> {
    let il = be32(blob, 0)? as usize;
    let dl = be32(blob, 4)? as usize;
    if il == 0 || il > MAX_INDEX {
        return Err(format!("index count {il} is out of range"));
    }
    if dl > MAX_DATA {
        return Err(format!("data length {dl} is out of range"));
    }
    let data_start = 8 + il * 16;
    let data_end = data_start + dl;
    if data_end > blob.len() {
        return Err(format!("header claims {data_end} bytes but the blob has {}", blob.len()));
    }
    let data = &blob[data_start..data_end];
    let entry = |i: usize| -> Result<(u32, u32, usize, usize), String> {
        let at = 8 + i * 16;
        Ok((be32(blob, at)?, be32(blob, at + 4)?, be32(blob, at + 8)? as usize, be32(blob, at + 12)? as usize))
    };
    // The region trailer, when there is one, must lie inside the data store.
    let (tag, ty, offset, count) = entry(0)?;
    if REGION_TAGS.contains(&tag) {
        if ty != TYPE_BIN || count != 16 {
            return Err(format!("region tag {tag} has type {ty} and count {count}, not a 16-byte trailer"));
        }
        if offset.checked_add(16).is_none_or(|end| end > dl) {
            return Err(format!("region trailer at {offset} is outside the {dl}-byte data store"));
        }
        let trailer_tag = be32(data, offset)?;
        if trailer_tag != tag {
            return Err(format!("region trailer names tag {trailer_tag}, expected {tag}"));
        }
    }
    let mut h = RpmHeader::default();
    for i in 0..il {
        let (tag, ty, offset, count) = entry(i)?;
        let string = |what: &str| -> Result<String, String> {
            if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) || count == 0 {
                return Err(format!("{what} (tag {tag}) has type {ty}, not a string"));
            }
            // The first string of the entry; rpm's strings are NUL-terminated.
            let rest = data.get(offset..).ok_or_else(|| format!("{what} offset {offset} is outside the data store"))?;
            let len = rest
                .iter()
                .take(MAX_STRING + 1)
                .position(|b| *b == 0)
                .ok_or_else(|| format!("{what} at {offset} is not NUL-terminated within {MAX_STRING} bytes"))?;
            Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
        };
        match tag {
            TAG_NAME => h.name = string("NAME")?,
            TAG_VERSION => h.version = string("VERSION")?,
            TAG_RELEASE => h.release = string("RELEASE")?,
            TAG_ARCH => h.arch = Some(string("ARCH")?),
            TAG_SOURCERPM => h.source_rpm = Some(string("SOURCERPM")?),
            TAG_LICENSE => h.license = Some(string("LICENSE")?),
            TAG_VENDOR => h.vendor = Some(string("VENDOR")?),
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count == 0 {
                    return Err(format!("EPOCH has type {ty} and count {count}, not an int32"));
                }
                if offset % 4 != 0 {
                    return Err(format!("EPOCH at {offset} is not 4-byte aligned"));
                }
                h.epoch =
                    Some(be32(data, offset).map_err(|_| format!("EPOCH offset {offset} is outside the data store"))?);
            }
            _ => {}
        }
    }
    if h.name.is_empty() || h.version.is_empty() {
        return Err("the header has no NAME or VERSION".into());
    }
    Ok(h)
}

/// What an rpm sqlite database held: the packages, and why some rows could not be read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RpmDb {
    /// In row order (`hnum`), `gpg-pubkey` pseudo-packages left out.
    pub packages: Vec<RpmHeader>,
    /// `row N: reason` for each unreadable header.
    pub bad_rows: Vec<String>,
}

/// Rows read from one database; past this the rest is not read and a message says so (a
/// real system has a few thousand).
const MAX_ROWS: usize = 200_000;

/// SQLite's advice for databases from untrusted sources ("Defense against dark arts"):
/// defensive mode, cell size checks, no schema-defined functions with side effects, no string
/// or blob longer than the file, and a bound on the work one query may do (a hostile schema
/// can make a column compute without end).
fn harden(conn: &Connection, file_len: usize) {
    use rusqlite::config::DbConfig;
    use rusqlite::limits::Limit;
    let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true);
    let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false);
    let _ = conn.pragma_update(None, "cell_size_check", true);
    let _ = conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, i32::try_from(file_len.max(1 << 20)).unwrap_or(i32::MAX));
    // One call per 10,000 virtual machine steps: at least 200 million steps, more for bigger
    // files; reading a row of a real table takes a few dozen.
    let budget = 20_000 + file_len / 64;
    let mut calls = 0usize;
    conn.progress_handler(
        10_000,
        Some(move || {
            calls += 1;
            calls > budget
        }),
    );
}

/// Reads an `rpmdb.sqlite` given as bytes, in memory: nothing is written to disk. An error
/// means the file is not a readable SQLite rpm database at all.
pub fn read_sqlite(bytes: &[u8]) -> Result<RpmDb, String> {
    if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".into());
    }
    // SQLite's allocator takes an `int`.
    if i32::try_from(bytes.len()).is_err() {
        return Err(format!("{} bytes is more than SQLite can hold in memory", bytes.len()));
    }
    // rpm keeps its database in WAL mode (header bytes 18 and 19 are 2). An in-memory image
    // cannot have a WAL file, so SQLite refuses it unless it says "rollback journal" (1);
    // the committed pages are all in the main file once rpm closed the database. The bytes
    // are patched while SQLite copies them in, so the file is not copied twice.
    let rollback = |b: u8| if b == 2 { 1 } else { b };
    let journal = [rollback(bytes[18]), rollback(bytes[19])];
    let image = bytes[..18].chain(&journal[..]).chain(&bytes[20..]);
    let mut conn = Connection::open_with_flags(
        ":memory:",
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| format!("cannot start SQLite: {e}"))?;
    harden(&conn, bytes.len());
    conn.deserialize_read_exact(MAIN_DB, image, bytes.len(), true)
        .map_err(|e| format!("cannot open the database: {e}"))?;
    // A view or virtual table named Packages could compute rows without end; rpm's is a table.
    let is_table: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'Packages'", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n == 1)
        .map_err(|e| format!("cannot read the schema: {e}"))?;
    if !is_table {
        return Err("no Packages table (not an rpm database)".into());
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(|e| format!("no readable Packages table: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| format!("cannot read the Packages table: {e}"))?;
    let mut db = RpmDb::default();
    let mut n = 0usize;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                db.bad_rows.push(format!("the Packages table is damaged after {n} rows: {e}"));
                break;
            }
        };
        n += 1;
        if n > MAX_ROWS {
            db.bad_rows.push(format!("more than {MAX_ROWS} packages; the rest are not read"));
            break;
        }
        let hnum: i64 = row.get(0).unwrap_or(-1);
        let blob: Vec<u8> = match row.get(1) {
            Ok(b) => b,
            Err(e) => {
                db.bad_rows.push(format!("row {hnum}: {e}"));
                continue;
            }
        };
        match parse_header(&blob) {
            Ok(h) if h.is_pseudo() => {}
            Ok(h) => db.packages.push(h),
            Err(e) => db.bad_rows.push(format!("row {hnum}: {e}")),
        }
    }
    Ok(db)
}

/// The packages of the rpm database kept at image path `path` (relative, as in the layer),
/// and a message for each package that could not be read. `Err` when the database as a whole
/// cannot be read (a BerkeleyDB or ndb database, a damaged file): the message names the path
/// and says what to do.
pub(super) fn inventory(
    path: &str,
    data: &[u8],
    os: Option<&OsInfo>,
    layer_of: &dyn Fn(&RpmHeader) -> Option<String>,
) -> Result<(Vec<Package>, Vec<String>), String> {
    if !path.ends_with(".sqlite") {
        let kind = if path.ends_with("Packages.db") { "ndb (SUSE)" } else { "BerkeleyDB (RHEL/CentOS 7 and 8)" };
        return Err(format!(
            "`/{path}`: {kind} rpm databases are not read, so this image's rpm packages are not in the inventory; \
             images with rpm 4.16 or later (RHEL 9, Fedora 33+) use rpmdb.sqlite, which is read"
        ));
    }
    let db = read_sqlite(data)
        .map_err(|e| format!("`/{path}`: cannot read the rpm database: {e}; its packages are not in the inventory"))?;
    let bad = db.bad_rows.iter().map(|b| format!("`/{path}`: {b}; that package is not in the inventory")).collect();
    let distro_ecosystem = match os.map(|o| o.id.as_str()) {
        Some("rocky") => "Rocky Linux".to_owned(),
        Some("almalinux") => "AlmaLinux".to_owned(),
        Some("rhel") => "Red Hat".to_owned(),
        Some(id) if !id.is_empty() => id.to_owned(),
        // No os-release: an ecosystem no advisory names, so nothing is matched by guesswork.
        _ => "rpm".to_owned(),
    };
    let release = os.and_then(super::osv_release);
    let packages = db
        .packages
        .iter()
        .map(|h| Package {
            ecosystem: Ecosystem::Rpm,
            purl: purl(h, os),
            name: h.name.clone(),
            version: h.evr(),
            relationship: Relationship::Unknown,
            location: Location { path: format!("/{path}"), line: 1 },
            hashes: Vec::new(),
            dependencies: Vec::new(),
            layer: layer_of(h),
            source: Source::Registry,
            distro: Some(Distro {
                ecosystem: distro_ecosystem.clone(),
                release: release.clone(),
                source_name: h.source_name().filter(|s| *s != h.name),
                source_version: None,
            }),
        })
        .collect();
    Ok((packages, bad))
}

/// `pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rocky-9.3&epoch=1`: the purl
/// spec's rpm type puts the vendor in the namespace and the epoch in a qualifier; qualifiers
/// are in canonical (sorted) order.
fn purl(h: &RpmHeader, os: Option<&OsInfo>) -> String {
    let namespace = os.map(|o| match o.id.as_str() {
        "rhel" => "redhat",
        id => id,
    });
    let mut q = Vec::new();
    if let Some(a) = &h.arch {
        q.push(format!("arch={}", encode(a)));
    }
    if let Some(os) = os {
        match &os.version_id {
            Some(v) => q.push(format!("distro={}-{}", encode(&os.id), encode(v))),
            None => q.push(format!("distro={}", encode(&os.id))),
        }
    }
    if let Some(e) = h.epoch {
        q.push(format!("epoch={e}"));
    }
    let query = if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) };
    let version = encode(&format!("{}-{}", h.version, h.release));
    match namespace.filter(|n| !n.is_empty()) {
        Some(ns) => format!("pkg:rpm/{}/{}@{version}{query}", encode(ns), encode(&h.name)),
        None => format!("pkg:rpm/{}@{version}{query}", encode(&h.name)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Builds a header blob the way rpm's `headerExport` lays it out, with a region trailer.
    pub(crate) fn blob(entries: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        let il = entries.len() as u32 + 1;
        for (tag, ty, bytes) in entries {
            if *ty == TYPE_INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
            }
            index.push((*tag, *ty, data.len() as u32, if *ty == TYPE_INT32 { bytes.len() as u32 / 4 } else { 1 }));
            data.extend_from_slice(bytes);
        }
        let trailer_at = data.len() as u32;
        data.extend(63u32.to_be_bytes());
        data.extend(TYPE_BIN.to_be_bytes());
        data.extend((-(il as i32 * 16)).to_be_bytes());
        data.extend(16u32.to_be_bytes());
        let mut out = Vec::new();
        out.extend(il.to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        for (t, ty, o, c) in [(63, TYPE_BIN, trailer_at, 16)].into_iter().chain(index) {
            out.extend(t.to_be_bytes());
            out.extend(ty.to_be_bytes());
            out.extend(o.to_be_bytes());
            out.extend(c.to_be_bytes());
        }
        out.extend(data);
        out
    }

    fn sample() -> Vec<u8> {
        blob(&[
            (TAG_NAME, TYPE_STRING, b"openssl-libs\0"),
            (TAG_VERSION, TYPE_STRING, b"3.0.7\0"),
            (TAG_RELEASE, TYPE_STRING, b"27.el9\0"),
            (TAG_EPOCH, TYPE_INT32, &1u32.to_be_bytes()),
            (TAG_VENDOR, TYPE_STRING, b"Rocky Enterprise Software Foundation\0"),
            (TAG_LICENSE, TYPE_STRING, b"ASL 2.0\0"),
            (TAG_ARCH, TYPE_STRING, b"x86_64\0"),
            (TAG_SOURCERPM, TYPE_STRING, b"openssl-3.0.7-27.el9.src.rpm\0"),
        ])
    }

    #[test]
    fn reads_a_valid_header() {
        let h = parse_header(&sample()).unwrap();
        assert_eq!(h.name, "openssl-libs");
        assert_eq!(h.evr(), "1:3.0.7-27.el9");
        assert_eq!(h.arch.as_deref(), Some("x86_64"));
        assert_eq!(h.source_name().as_deref(), Some("openssl"));
        assert_eq!(h.license.as_deref(), Some("ASL 2.0"));
        assert_eq!(h.vendor.as_deref(), Some("Rocky Enterprise Software Foundation"));
    }

    #[test]
    fn source_names_and_evr_without_epoch() {
        let mut h = RpmHeader { name: "a".into(), version: "1".into(), release: "2".into(), ..RpmHeader::default() };
        assert_eq!(h.evr(), "1-2");
        h.source_rpm = Some("python-dateutil-2.8.1-7.el9.src.rpm".into());
        assert_eq!(h.source_name().as_deref(), Some("python-dateutil"));
        h.source_rpm = Some("broken.src.rpm".into());
        assert_eq!(h.source_name(), None);
        h.source_rpm = Some("(none)".into());
        assert_eq!(h.source_name(), None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = sample();
        for len in 0..full.len() {
            assert!(parse_header(&full[..len]).is_err(), "truncated to {len} bytes was accepted");
        }
    }

    #[test]
    fn hostile_offsets_and_counts_are_errors() {
        let full = sample();
        // Index count far beyond the blob; data length beyond the blob.
        let mut b = full.clone();
        b[0..4].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
        assert!(parse_header(&b).unwrap_err().contains("index count"));
        let mut b = full.clone();
        b[4..8].copy_from_slice(&0x0fff_ffffu32.to_be_bytes());
        assert!(parse_header(&b).unwrap_err().contains("claims"));
        // NAME (entry 1) pointing past the data store.
        let mut b = full.clone();
        b[8 + 16 + 8..8 + 16 + 12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        assert!(parse_header(&b).unwrap_err().contains("NAME offset"));
        // Region trailer pointing past the data store.
        let mut b = full.clone();
        b[16..20].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        assert!(parse_header(&b).unwrap_err().contains("region trailer"));
        // EPOCH (entry 4) with a misaligned and an out-of-range offset.
        let at = 8 + 4 * 16 + 8;
        let mut b = full.clone();
        b[at..at + 4].copy_from_slice(&3u32.to_be_bytes());
        assert!(parse_header(&b).unwrap_err().contains("aligned"));
        let mut b = full.clone();
        b[at..at + 4].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        assert!(parse_header(&b).unwrap_err().contains("EPOCH offset"));
        // A string with no terminating NUL: strip every NUL from the data store.
        let mut b = full.clone();
        let data_start = 8 + 9 * 16;
        for x in &mut b[data_start..] {
            if *x == 0 {
                *x = b'x';
            }
        }
        assert!(parse_header(&b).is_err());
    }

    #[test]
    fn gpg_pubkey_is_a_pseudo_package() {
        let b = blob(&[(TAG_NAME, TYPE_STRING, b"gpg-pubkey\0"), (TAG_VERSION, TYPE_STRING, b"fd431d51\0")]);
        assert!(parse_header(&b).unwrap().is_pseudo());
    }

    /// The real database rpm 4.18 wrote (tests/fixtures/make-rpmdb.sh) reads as `rpm -qa`
    /// printed it (tests/fixtures/rpmdb.txt).
    #[test]
    fn real_sqlite_database_matches_rpm_qa() {
        let db = read_sqlite(include_bytes!("../../tests/fixtures/rpmdb.sqlite")).unwrap();
        assert!(db.bad_rows.is_empty(), "{:?}", db.bad_rows);
        let mut got: Vec<String> = db
            .packages
            .iter()
            .map(|h| {
                let epoch = h.epoch.map_or("(none)".to_owned(), |e| e.to_string());
                let (arch, src) = (h.arch.clone().unwrap_or_default(), h.source_rpm.clone().unwrap_or_default());
                format!("{} {epoch}:{}-{} {arch} {src}", h.name, h.version, h.release)
            })
            .collect();
        got.sort();
        let want: Vec<&str> = include_str!("../../tests/fixtures/rpmdb.txt").lines().collect();
        assert_eq!(got, want);
        assert!(db.packages.iter().all(|h| h.license.is_some() && h.vendor.as_deref() == Some("Sluice Test")));
    }

    #[test]
    fn damaged_database_is_an_error_not_a_panic() {
        let real = include_bytes!("../../tests/fixtures/rpmdb.sqlite");
        // Cut in half: SQLite reports the damage (or the rows it could read), never panics.
        let half = &real[..real.len() / 2];
        match read_sqlite(half) {
            Ok(db) => assert!(db.packages.len() < 3 || !db.bad_rows.is_empty()),
            Err(e) => assert!(!e.is_empty()),
        }
    }

    /// A database made with SQLite from `sql`, as bytes.
    fn sqlite(sql: &str) -> Vec<u8> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        conn.serialize(MAIN_DB).unwrap().to_vec()
    }

    #[test]
    fn hostile_schemas_are_refused_or_bounded() {
        // A view that would compute rows of random megabytes without end.
        let view = sqlite(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT x AS hnum, randomblob(1000000) AS blob FROM c;",
        );
        assert!(read_sqlite(&view).unwrap_err().contains("no Packages table"));
        // A generated column asking for a gigabyte per row: over the length limit, so each row
        // is a bad row, not an allocation.
        let generated = sqlite(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob AS (zeroblob(1000000000)) VIRTUAL); \
             INSERT INTO Packages (hnum) VALUES (1), (2);",
        );
        match read_sqlite(&generated) {
            Ok(db) => assert!(db.packages.is_empty() && db.bad_rows.iter().any(|b| b.contains("too big")), "{db:?}"),
            Err(e) => assert!(e.contains("too big"), "{e}"),
        }
        // Rows that are not headers are reported by row; the good row is still read.
        let mixed = sqlite(&format!(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL); \
             INSERT INTO Packages (blob) VALUES (x'00'), (x'{}');",
            sample().iter().map(|b| format!("{b:02x}")).collect::<String>()
        ));
        let db = read_sqlite(&mixed).unwrap();
        assert_eq!(db.packages.len(), 1);
        assert_eq!(db.bad_rows.len(), 1);
        assert!(db.bad_rows[0].starts_with("row 1:"), "{:?}", db.bad_rows);
    }

    #[test]
    fn not_a_database() {
        assert!(read_sqlite(b"").unwrap_err().contains("not an SQLite"));
        let mut junk = b"SQLite format 3\0".to_vec();
        junk.resize(4096, 0xAB);
        assert!(read_sqlite(&junk).is_err());
    }
}
