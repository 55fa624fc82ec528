"""Write one benchmark script's section of docs/benchmarks.md, between markers, keeping the others."""
import pathlib

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEAD = "# Benchmarks\n\nEach section is written by the script it names; rerun that script to refresh it.\n"


def write_section(name, body, doc=DOC):
    """Section `name` of `doc` (default docs/benchmarks.md) becomes `body`."""
    text = doc.read_text() if doc.exists() else HEAD
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text:
        pre, rest = text.split(begin, 1)
        text = pre + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(text)
    print(f"wrote section {name!r} of {doc}")


def kept_sections(doc):
    """The marked sections of `doc` (written by other scripts), for a script that rewrites the rest
    of the page to put back after it."""
    text = doc.read_text() if doc.exists() else ""
    return text[text.index("<!-- begin "):] if "<!-- begin " in text else ""


def machine():
    import os
    import time
    cpu = "unknown CPU"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, load average before the run {os.getloadavg()[0]:.2f}"


def page_head(title, script, doc):
    """The opening lines of a results page written by `script`: title, machine, and the script's
    docstring after its usage paragraph."""
    return [f"# {title}", "", f"Written by `python {script}` on " + machine() + ".", "",
            doc.split("\n\n", 2)[2].strip(), ""]

