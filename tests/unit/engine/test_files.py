"""Uploaded files without I/O: the type sniffed from the bytes, the name cleaned, the value converted."""

from __future__ import annotations

import io
import pickle
import zipfile

import pytest

from chalicelib.engine.convert import InvalidInput, convert
from chalicelib.engine.files import DAFile, DAFileList, clean_filename, sniff
from chalicelib.engine.screen import RenderedField
from tests.upload_files import pdf, png


def _zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return out.getvalue()


@pytest.mark.parametrize(("data", "expected"), [
    (pdf(), ("application/pdf", "pdf")),
    (png(), ("image/png", "png")),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", ("image/jpeg", "jpg")),
    (b"GIF89a\x01\x00", ("image/gif", "gif")),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", ("image/webp", "webp")),
    (_zip("word/document.xml", "[Content_Types].xml"), (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")),
    (_zip("notes.txt"), ("application/zip", "zip")),
    (b"<html><script>alert(1)</script></html>", ("text/plain", "txt")),
    ("Zoë".encode(), ("text/plain", "txt")),
    (b"\x00\x01\x02binary", ("application/octet-stream", "bin")),
    (b"PK\x03\x04 not really a zip", ("application/octet-stream", "bin")),
])
def test_the_type_comes_from_the_bytes(data: bytes, expected: tuple[str, str]) -> None:
    assert sniff(data) == expected


@pytest.mark.parametrize(("name", "mimetype", "extension", "expected"), [
    ("<script>.html", "text/plain", "txt", "script.txt"),
    ("../../etc/passwd", "text/plain", "txt", "passwd.txt"),
    ("C:\\Users\\me\\Résumé 2024.PDF", "application/pdf", "pdf", "Resume_2024.pdf"),
    ("photo.exe", "image/png", "png", "photo.png"),
    ("data.csv", "text/plain", "txt", "data.csv"),
    ("", "image/png", "png", "file.png"),
])
def test_the_name_is_cleaned_and_takes_the_sniffed_extension(name: str, mimetype: str, extension: str,
                                                              expected: str) -> None:
    assert clean_filename(name, mimetype, extension) == expected


def _field(datatype: str, required: bool = True) -> RenderedField:
    return RenderedField(label="File", variable="f", datatype=datatype, required=required)


def _files(count: int) -> DAFileList:
    return DAFileList([DAFile("s" * 32, "x.yml", f"{n:032x}", f"f{n}.png", "image/png", 3) for n in range(count)])


def test_a_file_field_takes_its_first_file_and_a_files_field_all() -> None:
    assert len(convert(_field("file"), _files(2))) == 1
    assert len(convert(_field("files"), _files(2))) == 2
    assert len(convert(_field("camera"), _files(1))) == 1


def test_a_required_file_field_without_a_file_says_so_and_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Choose a file to upload."):
        convert(_field("file"), [])
    assert convert(_field("file", required=False), []) is None
    with pytest.raises(InvalidInput, match="This field takes a file"):
        convert(_field("user"), "/etc/passwd")


def test_a_dafile_pickles_without_its_bytes() -> None:
    file = DAFile("s" * 32, "x.yml", "ab" * 16, "a.pdf", "application/pdf", 4, data=b"%PDF")
    assert file.pending_data() == b"%PDF"
    copy = pickle.loads(pickle.dumps(file))
    assert copy.pending_data() is None and b"%PDF" not in pickle.dumps(file)
    assert (copy.filename, copy.mimetype, copy.size, copy.extension, copy.private, copy.persistent) == (
        "a.pdf", "application/pdf", 4, "pdf", True, False)


def test_an_image_shows_as_an_image_and_any_other_file_as_a_link_with_escaped_names() -> None:
    image = DAFile("s" * 32, "x.yml", "ab" * 16, "a.png", "image/png", 4)
    other = DAFile("s" * 32, "x.yml", "cd" * 16, "a_b.txt", "text/plain", 4)
    assert image.__html__().startswith('<img src="/interview/upload/u' + "ab" * 16 + '/a.png?i=x.yml&amp;session=')
    assert other.__html__().startswith('<a href="/interview/upload/u' + "cd" * 16 + "/a_b.txt?")
    assert DAFileList([image, other]).__html__() == f"{image.__html__()} {other.__html__()}"
    assert DAFileList([image]).filename == "a.png"
