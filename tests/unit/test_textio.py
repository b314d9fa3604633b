import codecs

import pytest

from spendkoll.errors import FileRejected
from spendkoll.textio import detect_delimiter, detect_encoding, sniff, to_utf8

TEXT = "konto;belopp;namn\n6410;1,50;Åhléns\n4010;2,00;Ölands €uro\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-8-sig"),
        (TEXT.encode(), "utf-8"),
        (TEXT.encode("cp1252"), "cp1252"),
        (TEXT.replace("€", "e").encode("latin-1") + b"\x81", "latin-1"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_detect_encoding(raw, expected):
    assert detect_encoding(raw) == expected


def test_declared_encoding_wins_and_unknown_is_rejected():
    assert detect_encoding(b"abc", "CP1252") == "cp1252"
    with pytest.raises(FileRejected, match="unknown encoding"):
        detect_encoding(b"abc", "klingon")


@pytest.mark.parametrize(
    ("header", "delim"),
    [
        ("a;b;c", ";"),
        ("a,b,c", ","),
        ("a\tb\tc", "\t"),
        ('"a;x",b,c', ","),
    ],
)
def test_detect_delimiter(header, delim):
    assert detect_delimiter(header) == delim


def test_no_delimiter_rejected():
    with pytest.raises(FileRejected, match="line 1"):
        detect_delimiter("justonecolumn")


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [
        ("cp1252", "\r"),
        ("utf-16", "\r\n"),
        ("utf-8-sig", "\n"),
    ],
)
def test_to_utf8_normalises(tmp_path, encoding, newline):
    src = tmp_path / "in.csv"
    src.write_bytes(TEXT.replace("\n", newline).encode(encoding))
    layout = sniff(src)
    assert layout.newline == newline and layout.delimiter == ";"
    out = tmp_path / "out.csv"
    to_utf8(src, out, layout)
    assert out.read_text(encoding="utf-8") == TEXT


def test_empty_file_rejected(tmp_path):
    p = tmp_path / "e.csv"
    p.write_bytes(b"  \n")
    with pytest.raises(FileRejected, match="empty"):
        sniff(p)
