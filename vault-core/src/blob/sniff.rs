//! Content-type sniffing from an object's first bytes (magic numbers), so what a client
//! *declares* can be checked against what it *sent*.

/// `application/pdf`.
pub(crate) const PDF: &str = "application/pdf";
/// `image/png`.
pub(crate) const PNG: &str = "image/png";
/// `image/jpeg`.
pub(crate) const JPEG: &str = "image/jpeg";
/// `image/webp`.
pub(crate) const WEBP: &str = "image/webp";
/// `image/gif`.
pub(crate) const GIF: &str = "image/gif";
/// `application/epub+zip`.
pub(crate) const EPUB: &str = "application/epub+zip";
/// `text/plain`: what any text sniffs as (Markdown cannot be told from its bytes).
pub(crate) const TEXT: &str = "text/plain";
/// `text/markdown`.
pub(crate) const MARKDOWN: &str = "text/markdown";

/// `application/x-executable`: an ELF program or library (Linux, BSD). Never allowed by
/// default; recognised so a refusal can say what the bytes are.
pub(crate) const ELF: &str = "application/x-executable";
/// `application/vnd.microsoft.portable-executable`: a Windows program or DLL (PE, `MZ`).
pub(crate) const PE: &str = "application/vnd.microsoft.portable-executable";
/// `application/x-mach-binary`: a macOS program or library (Mach-O).
pub(crate) const MACH_O: &str = "application/x-mach-binary";

/// How many leading bytes are enough to sniff every type recognised here.
pub(crate) const SNIFF_LEN: usize = 512;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const ZIP_LOCAL_HEADER: &[u8] = b"PK\x03\x04";

/// The content type that `prefix`, the first bytes of an object, shows: PDF, PNG, JPEG, WebP,
/// GIF, EPUB, (valid UTF-8 without NUL bytes) `text/plain`, or a native executable (ELF, PE,
/// Mach-O); `None` for anything else.
///
/// `truncated` says whether more bytes follow `prefix`: then a multi-byte UTF-8 character cut
/// at the end does not make the text invalid.
pub fn sniff(prefix: &[u8], truncated: bool) -> Option<&'static str> {
    let binary = if prefix.starts_with(b"%PDF-") {
        Some(PDF)
    } else if prefix.starts_with(PNG_SIGNATURE) {
        Some(PNG)
    } else if prefix.starts_with(b"\xFF\xD8\xFF") {
        Some(JPEG)
    } else if prefix.len() >= 12 && prefix.starts_with(b"RIFF") && &prefix[8..12] == b"WEBP" {
        Some(WEBP)
    } else if prefix.starts_with(b"GIF87a") || prefix.starts_with(b"GIF89a") {
        Some(GIF)
    } else if is_epub(prefix) {
        Some(EPUB)
    } else {
        None
    };
    // Executables are tried after text: their magic numbers are short enough to begin a text
    // ("MZ..."), but a real executable has NUL bytes in its header, which text never has.
    binary
        .or_else(|| is_text(prefix, truncated).then_some(TEXT))
        .or_else(|| executable(prefix))
}

/// ELF (`\x7fELF`), PE (`MZ`) or Mach-O (32/64-bit, either byte order).
fn executable(prefix: &[u8]) -> Option<&'static str> {
    // Universal binaries (`CA FE BA BE`) are left out: Java class files share their magic.
    const MACH_O_MAGIC: [&[u8]; 4] = [
        b"\xFE\xED\xFA\xCE",
        b"\xFE\xED\xFA\xCF",
        b"\xCE\xFA\xED\xFE",
        b"\xCF\xFA\xED\xFE",
    ];
    if prefix.starts_with(b"\x7FELF") {
        Some(ELF)
    } else if prefix.starts_with(b"MZ") {
        Some(PE)
    } else if MACH_O_MAGIC.iter().any(|magic| prefix.starts_with(magic)) {
        Some(MACH_O)
    } else {
        None
    }
}

/// An EPUB is a ZIP whose first entry is an uncompressed file named `mimetype` holding
/// `application/epub+zip` (EPUB OCF 3.3 §4.2.3).
fn is_epub(prefix: &[u8]) -> bool {
    if !prefix.starts_with(ZIP_LOCAL_HEADER) || prefix.len() < 30 {
        return false;
    }
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([prefix[at], prefix[at + 1]]));
    let stored = u16_at(8) == 0;
    let name_len = u16_at(26);
    let extra_len = u16_at(28);
    let name = prefix.get(30..30 + name_len);
    let data_start = 30 + name_len + extra_len;
    let data = prefix.get(data_start..data_start + EPUB.len());
    stored && name == Some(b"mimetype".as_slice()) && data == Some(EPUB.as_bytes())
}

/// Valid UTF-8 (allowing a character cut at the end of a truncated prefix) without NUL bytes.
fn is_text(prefix: &[u8], truncated: bool) -> bool {
    let valid_len = match std::str::from_utf8(prefix) {
        Ok(_) => prefix.len(),
        // `error_len() == None`: the input ended inside a character, which is fine when the
        // prefix was cut there and the rest of the character follows.
        Err(e) if truncated && e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    !prefix[..valid_len].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epub_prefix() -> Vec<u8> {
        let mut zip = Vec::new();
        zip.extend_from_slice(ZIP_LOCAL_HEADER);
        zip.extend_from_slice(&[20, 0, 0, 0, 0, 0]); // version, flags, method = stored
        zip.extend_from_slice(&[0; 16]); // time, date, crc, sizes
        zip.extend_from_slice(&8u16.to_le_bytes()); // name length
        zip.extend_from_slice(&0u16.to_le_bytes()); // extra length
        zip.extend_from_slice(b"mimetype");
        zip.extend_from_slice(EPUB.as_bytes());
        zip.extend_from_slice(b"PK\x03\x04more entries");
        zip
    }

    #[test]
    fn magic_numbers() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", true), Some(PDF));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", true), Some(PNG));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", true), Some(JPEG));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 ", true), Some(WEBP));
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0", false), Some(GIF));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0\x80\0\0", false), Some(GIF));
        assert_eq!(sniff(&epub_prefix(), true), Some(EPUB));
    }

    #[test]
    fn near_misses_are_not_binary_types() {
        // A RIFF that is not WebP (WAV) has NUL bytes: nothing.
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt ", true), None);
        // Too short to be WebP but valid text.
        assert_eq!(sniff(b"RIFF", false), Some(TEXT));
        assert_eq!(sniff(b"\x89PNG\r\n", false), None);
        assert_eq!(sniff(b"GIF88a", false), Some(TEXT));
    }

    #[test]
    fn a_plain_zip_or_a_compressed_mimetype_is_not_epub() {
        let mut other_name = epub_prefix();
        other_name[30..38].copy_from_slice(b"content1");
        assert_eq!(sniff(&other_name, true), None);

        let mut deflated = epub_prefix();
        deflated[8] = 8;
        assert_eq!(sniff(&deflated, true), None);

        let mut wrong_type = epub_prefix();
        wrong_type[38..58].copy_from_slice(b"application/zip+zip!");
        assert_eq!(sniff(&wrong_type, true), None);

        assert_eq!(sniff(&epub_prefix()[..45], false), None, "cut short");
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0", false), None);
    }

    #[test]
    fn epub_with_an_extra_field_is_still_epub() {
        let mut zip = epub_prefix();
        zip[28] = 4;
        zip.splice(38..38, [0xCA, 0xFE, 0, 0]);
        assert_eq!(sniff(&zip, true), Some(EPUB));
    }

    #[test]
    fn text_is_utf8_without_nul() {
        assert_eq!(sniff(b"# Title\n\nSome *markdown*.\n", false), Some(TEXT));
        assert_eq!(sniff("Grüße, 世界 🦀".as_bytes(), false), Some(TEXT));
        assert_eq!(sniff(b"\xEF\xBB\xBFwith a BOM", false), Some(TEXT));
        assert_eq!(sniff(b"nul\0inside", false), None);
        assert_eq!(sniff(b"latin-1 caf\xE9 au lait", false), None);
        // UTF-16 has NULs.
        assert_eq!(sniff(b"\xFF\xFEh\0i\0", false), None);
    }

    #[test]
    fn a_character_cut_by_the_prefix_is_fine_only_when_truncated() {
        let crab = "crab 🦀".as_bytes();
        let cut = &crab[..crab.len() - 1];
        assert_eq!(sniff(cut, true), Some(TEXT));
        assert_eq!(sniff(cut, false), None, "the whole body ends mid-character");
        // An invalid byte is invalid even in a truncated prefix.
        assert_eq!(sniff(b"ab\xFFcd", true), None);
    }

    #[test]
    fn executables_are_named() {
        let elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0";
        assert_eq!(sniff(elf, true), Some(ELF));
        let pe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0";
        assert_eq!(sniff(pe, true), Some(PE));
        let mach_o = b"\xCF\xFA\xED\xFE\x07\0\0\x01";
        assert_eq!(sniff(mach_o, true), Some(MACH_O));
        // A text that happens to begin like an executable is text.
        assert_eq!(sniff(b"MZ is a postcode in Spain.", false), Some(TEXT));
        // Other binary data is still nothing.
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42", true), None);
    }

    #[test]
    fn empty_prefix_is_text() {
        // Callers refuse empty uploads before sniffing; the function itself stays total.
        assert_eq!(sniff(b"", false), Some(TEXT));
    }
}
