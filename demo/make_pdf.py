#!/usr/bin/env python3
"""Write the demo Puskesmas Moru standar pelayanan as a small two-page PDF 1.4, by hand.

Only the standard library is used: the objects (catalog, page tree, two pages, their content
streams, two standard Type 1 fonts and an info dictionary), the cross-reference table and the
trailer are written byte by byte, so the file has a real text layer (Helvetica, WinAnsiEncoding)
that any PDF text extractor (pypdf among them) reads back line by line.

    python3 demo/make_pdf.py                  # writes demo/sites/pkm-moru/files/standar-pelayanan-puskesmas-moru.pdf
    python3 demo/make_pdf.py --out /tmp/x.pdf

The output is deterministic (fixed dates and file identifier), so regenerating it does not
change the committed file.
"""

from __future__ import annotations

import argparse
import hashlib
import textwrap
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "sites" / "pkm-moru" / "files" / "standar-pelayanan-puskesmas-moru.pdf"

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN_LEFT, MARGIN_TOP = 56, 60
FONT_SIZE, LEADING = 10, 14
WRAP = 92  # characters per line at 10 pt Helvetica inside the margins

# Each page is a list of (style, text). style: "T" title (bold 13 pt), "H" heading (bold),
# "P" paragraph (wrapped), "I" indented item (wrapped, hanging indent), "" blank line.
Line = tuple[str, str]

PAGES: list[list[Line]] = [
    [
        ("T", "STANDAR PELAYANAN"),
        ("T", "UPTD PUSKESMAS MORU"),
        ("P", "Kecamatan Alor Barat Daya, Kabupaten Alor, Provinsi Nusa Tenggara Timur"),
        (
            "P",
            "Ditetapkan dengan Keputusan Kepala UPTD Puskesmas Moru Nomor 445/PKM-MR/012/I/2024 "
            "tanggal 15 Januari 2024.",
        ),
        ("", ""),
        ("H", "A. PELAYANAN PENDAFTARAN DAN RAWAT JALAN POLI UMUM"),
        ("H", "1. Persyaratan"),
        ("I", "a. Kartu JKN-KIS atau KTP-el / Kartu Keluarga bagi pasien umum;"),
        ("I", "b. Kartu berobat Puskesmas bagi pasien lama;"),
        ("I", "c. Surat rujukan bagi pasien rujukan balik dari rumah sakit."),
        ("H", "2. Sistem, Mekanisme dan Prosedur"),
        ("I", "a. Pasien mengambil nomor antrean dan mendaftar di loket pendaftaran;"),
        ("I", "b. Petugas rekam medis mencari atau membuat berkas rekam medis pasien;"),
        ("I", "c. Perawat melakukan anamnesis awal dan pemeriksaan tanda vital;"),
        ("I", "d. Dokter memeriksa pasien, menegakkan diagnosis dan memberikan resep atau rujukan;"),
        ("I", "e. Pasien mengambil obat di ruang farmasi dan menerima penjelasan cara minum obat."),
        ("H", "3. Jangka Waktu Penyelesaian"),
        (
            "P",
            "Paling lama 60 (enam puluh) menit sejak pendaftaran sampai penyerahan obat, di luar waktu "
            "tunggu pemeriksaan penunjang.",
        ),
        ("H", "4. Biaya/Tarif"),
        ("I", "a. Peserta JKN-KIS: tidak dipungut biaya;"),
        (
            "I",
            "b. Pasien umum: karcis rawat jalan Rp 10.000 sesuai Peraturan Daerah Kabupaten Alor "
            "Nomor 3 Tahun 2023 tentang Pajak Daerah dan Retribusi Daerah.",
        ),
        ("H", "5. Produk Pelayanan"),
        (
            "P",
            "Pemeriksaan dan pengobatan, resep dan obat, surat keterangan sakit bila diperlukan, "
            "serta surat rujukan ke fasilitas kesehatan lanjutan.",
        ),
        ("H", "6. Penanganan Pengaduan, Saran dan Masukan"),
        (
            "P",
            "Pengaduan disampaikan langsung kepada petugas, melalui kotak saran di ruang tunggu, atau "
            "SMS/WhatsApp pengaduan 0813-3791-4420. Petugas pengaduan mencatat setiap pengaduan dalam "
            "buku register, Kepala Puskesmas menetapkan penanggung jawab tindak lanjut, dan jawaban "
            "disampaikan kepada pengadu paling lambat 3 (tiga) hari kerja.",
        ),
    ],
    [
        ("H", "B. PELAYANAN LABORATORIUM"),
        ("H", "1. Persyaratan"),
        ("I", "a. Formulir permintaan pemeriksaan dari dokter poli atau dokter perujuk;"),
        ("I", "b. Pasien puasa 10 jam untuk pemeriksaan gula darah puasa dan kolesterol."),
        ("H", "2. Sistem, Mekanisme dan Prosedur"),
        ("I", "a. Pasien menyerahkan formulir permintaan ke petugas laboratorium;"),
        ("I", "b. Petugas mengambil sampel darah, urine atau dahak;"),
        ("I", "c. Analis memeriksa sampel dan mencatat hasil;"),
        ("I", "d. Hasil diverifikasi penanggung jawab laboratorium dan diserahkan ke poli pengirim."),
        ("H", "3. Jangka Waktu Penyelesaian"),
        (
            "P",
            "Gula darah, asam urat dan kolesterol: 15 menit. Darah rutin dan urine lengkap: 60 menit. "
            "Pemeriksaan dahak (BTA): 2 hari kerja.",
        ),
        ("H", "4. Biaya/Tarif"),
        ("I", "a. Peserta JKN-KIS: tidak dipungut biaya;"),
        ("I", "b. Pasien umum: Rp 15.000 sampai Rp 40.000 per parameter sesuai Perda Nomor 3 Tahun 2023."),
        ("H", "5. Produk Pelayanan"),
        ("P", "Lembar hasil pemeriksaan laboratorium yang ditandatangani analis kesehatan."),
        ("H", "6. Penanganan Pengaduan, Saran dan Masukan"),
        ("P", "Sama dengan pelayanan pendaftaran dan rawat jalan (bagian A angka 6)."),
        ("", ""),
        ("P", "Moru, 15 Januari 2024"),
        ("P", "Kepala UPTD Puskesmas Moru,"),
        ("", ""),
        ("P", "dr. Stefani Lelang Maro"),
        ("P", "NIP 19880907 201503 2 002"),
    ],
]


def pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding, with (, ) and backslash escaped."""
    raw = text.encode("cp1252")
    raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + raw + b")"


def content_stream(lines: list[Line]) -> bytes:
    """The page's text as one BT/ET block: one Tj per output line, T* between lines."""
    out = [b"BT", b"/F1 %d Tf" % FONT_SIZE, b"%d TL" % LEADING, b"%d %d Td" % (MARGIN_LEFT, PAGE_HEIGHT - MARGIN_TOP)]
    for style, text in lines:
        if style == "":
            out.append(b"T*")
            continue
        if style == "T":
            out += [b"/F2 13 Tf", pdf_string(text) + b" Tj", b"T*", b"/F1 %d Tf" % FONT_SIZE]
            continue
        if style == "H":
            out += [b"/F2 %d Tf" % FONT_SIZE, pdf_string(text) + b" Tj", b"T*", b"/F1 %d Tf" % FONT_SIZE]
            continue
        indent = "    " if style == "I" else ""
        wrapped = textwrap.wrap(text, width=WRAP - len(indent), subsequent_indent="   " if style == "I" else "")
        for piece in wrapped:
            out += [pdf_string(indent + piece) + b" Tj", b"T*"]
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def build_pdf(pages: list[list[Line]]) -> bytes:
    """Assemble objects, xref table and trailer into a complete PDF 1.4 file."""
    n_pages = len(pages)
    # Object numbers: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info,
    # then for page i: 6 + 2i page object, 7 + 2i its content stream.
    page_ids = [6 + 2 * i for i in range(n_pages)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % n_pages,
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        5: b"<< /Title "
        + pdf_string("Standar Pelayanan UPTD Puskesmas Moru")
        + b" /Author "
        + pdf_string("UPTD Puskesmas Moru")
        + b" /Producer "
        + pdf_string("Patuh demo make_pdf.py")
        + b" /CreationDate (D:20240115090000+08'00') /ModDate (D:20240115090000+08'00') >>",
    }
    for i, lines in enumerate(pages):
        page_id, content_id = page_ids[i], page_ids[i] + 1
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]" % (PAGE_WIDTH, PAGE_HEIGHT)
            + b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >>"
            + b" /Contents %d 0 R >>" % content_id
        )
        stream = content_stream(lines)
        objects[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    file_id = hashlib.md5(bytes(out)).hexdigest().encode()
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<" % size
        + file_id
        + b"> <"
        + file_id
        + b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the PDF")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = build_pdf(PAGES)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes, {len(PAGES)} pages)")


if __name__ == "__main__":
    main()
