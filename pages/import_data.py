"""Import: upload events or feedback, choose or edit the mapping, preview the rows as stored, confirm."""

from urllib.parse import urlencode

import streamlit as st

from dashboard import cache, format
from dashboard.components import editing, frame
from dashboard.components.import_data import (
    ImportValidationError,
    MapFileError,
    Upload,
    changes_table,
    check_map_upload,
    check_upload,
    example_mappings,
    missing_journey,
    preview_table,
    problems_table,
    tables_wanted,
)
from dashboard.editors import NotAnEditor
from dashboard.warmup import start_warm_up
from data_access.importing.mapping import parse_mapping
from data_access.importing.sources import MAX_COLUMNS


def remember_example() -> None:
    st.query_params["mapping"] = st.session_state["import_example"]


st.title("Import data")
st.caption(
    "Bring events or survey answers from a CSV or Parquet export. A mapping (YAML) says which column is "
    "which field; see docs/import-format.md. Nothing is written until the whole file passes every check. "
    f"Files up to {st.get_option('server.maxUploadSize')} MB and {MAX_COLUMNS:,} columns here; larger ones with "
    "`journey-atlas import` on the server."
)
# a viewer gets no upload at all (and each import below checks the editor again when it writes)
if (editor := editing.editor_or_sign_in("import", action="import data")) is None:
    st.stop()
editing.editing_as("import", editor)
with st.expander("Latest imports"):
    editing.imports_list(cache.load_recent_imports())

st.subheader("1. The map")
st.caption(
    "Journeys, stages, channels, touchpoints and metrics (YAML, see examples/maps). Data is imported into a map."
)
map_upload = st.file_uploader("Map file", type=["yaml", "yml"], key="import_map_file")
if map_upload is not None:
    map_text = map_upload.getvalue().decode("utf-8", errors="replace")
    checked_map = check_map_upload(cache.engine(), name=map_upload.name, text=map_text)
    if checked_map.errors:
        st.error("The map cannot be imported:\n\n" + "\n".join(f"- {format.verbatim(e, limit=300)}"
                                                                for e in checked_map.errors))  # fmt: skip
    elif not checked_map.changes:
        st.success("The map is already as this file says: nothing to change.")
    else:
        counts = {c: sum(1 for x in checked_map.changes if x.change == c) for c in ("added", "changed", "removed")}
        st.write(", ".join(f"**{n:,}** {change}" for change, n in counts.items()) + " by importing this map:")
        st.dataframe(changes_table(checked_map.changes), hide_index=True, key="import_map_changes")
        if st.button("Import map", key="import_map_confirm"):
            try:
                summary = cache.import_map_file(map_upload.name, map_text)
            except NotAnEditor as refused:
                st.error(format.verbatim(str(refused), limit=None))
            except MapFileError as error:
                st.error(format.verbatim(error.details, limit=None))
            else:
                start_warm_up()
                st.success(format.verbatim(str(summary), limit=None))

st.subheader("2. The data")
examples = example_mappings()
chosen = st.query_params.get("mapping", "")
if chosen and chosen not in examples:
    st.warning(
        f"Parameter `mapping`: '{format.verbatim(chosen)}' is unknown "
        f"(known: {format.verbatim(', '.join(examples), limit=None)}); using the blank one."
    )
example = st.selectbox(
    "Start from a mapping",
    list(examples),
    index=list(examples).index(chosen) if chosen in examples else 0,
    key="import_example",
    on_change=remember_example,
)
st.query_params.from_dict({"mapping": example})
frame.show_link(f"{st.context.url or '/import'}?{urlencode({'mapping': example})}")
mapping_text = st.text_area("Mapping (YAML)", value=examples[example], height=320, key=f"import_mapping_{example}")
if (needed := missing_journey(cache.engine(), mapping_text)) is not None:
    st.warning(
        f"This mapping imports into the journey '{format.verbatim(needed)}', which the map does not hold yet: "
        "import its map first (above)."
    )
wanted = tables_wanted(mapping_text)
if wanted:
    st.caption(
        f"This mapping joins {len(wanted)} more file(s) to the one it imports: "
        + ", ".join(f"{format.verbatim(file)} (table {format.verbatim(table)})" for table, file in wanted.items())
        + ". Upload them together; they are told apart by file name."
    )
uploaded = st.file_uploader("File(s) to import", type=["csv", "parquet"], accept_multiple_files=True, key="import_file")
if not uploaded:
    st.info("Upload a file to see its first rows as they will be stored, and any problems.")
    st.stop()
uploads = [Upload(name=file.name, data=file.getvalue()) for file in uploaded]

with st.spinner("Checking the whole file…"):
    checked = check_upload(cache.engine(), uploads=uploads, mapping_text=mapping_text)
if checked.mapping_errors:
    st.error(
        "The mapping cannot be used:\n\n"
        + "\n".join(f"- {format.verbatim(m, limit=300)}" for m in checked.mapping_errors)
    )
    st.stop()
if checked.uploads.errors or checked.uploads.missing:
    said = [f"- still missing: {format.verbatim(m)}" for m in checked.uploads.missing]
    said += [f"- {format.verbatim(e, limit=300)}" for e in checked.uploads.errors]
    st.warning("Nothing can be checked until every file the mapping reads is here:\n\n" + "\n".join(said))
    st.stop()
assert checked.preview is not None
shown = checked.preview
if shown.problems:
    read = f"**{shown.rows_read:,}** rows read → **{shown.facts:,}** facts. " if shown.rows_read else ""
    st.error(f"{read}{len(shown.problems)} problem(s): fix the file or the mapping. Rows are 1-based data rows.")
    st.dataframe(problems_table(shown.problems), hide_index=True, key="import_problems")
else:
    st.write(
        f"**{shown.rows_read:,}** rows → **{shown.facts:,}** facts "
        f"({shown.not_applicable:,} not applicable dropped); **{shown.new:,}** new, "
        f"{shown.already_present:,} already in the database."
    )
if shown.rows.height:
    st.subheader("First rows as they will be stored")
    st.dataframe(preview_table(shown.rows), hide_index=True, key="import_preview")

if st.button("Import", type="primary", disabled=not checked.importable, key="import_confirm"):
    bar = st.progress(0.0, text="Importing…")
    try:
        report = cache.import_facts_file(
            uploads,
            parse_mapping(mapping_text),
            lambda p: bar.progress(p.fraction or 0.0, text=f"{p.rows_done:,} rows"),
        )
    except NotAnEditor as refused:
        bar.empty()
        st.error(format.verbatim(str(refused), limit=None))
    except ImportValidationError as error:
        st.error("Nothing imported:")
        st.dataframe(problems_table(error.problems), hide_index=True)
    else:
        bar.progress(1.0, text="Done")
        start_warm_up()  # every view reads the new data on its next run; the default ones are computed now
        st.success(format.verbatim(report.describe(), limit=None))
