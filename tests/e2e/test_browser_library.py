"""The demo page as a media library, in a real browser against the local stack: folders
and their counts, uploads into the open folder, moving by menu and by drag and drop,
filters and search, alt text and tags, the trash, downloads, and deleting a folder."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.browser import Demo, sign_in
from tests.e2e.conftest import ARTIFACTS, LocalStack
from tests.samples import PDF_BYTES, jpeg_bytes

pytestmark = pytest.mark.e2e

READY_TIMEOUT_MS = 60_000
JPEG = "image/jpeg"
PDF = "application/pdf"


@pytest.fixture
def user() -> str:
    return f"library-{uuid.uuid4().hex[:10]}"


# ---- what the page shows ------------------------------------------------------------------


def _items(page: Page, grid: str = "Ready media") -> Locator:
    return page.get_by_role("list", name=grid, exact=True).locator(":scope > li")


def _item(page: Page, filename: str, grid: str = "Ready media") -> Locator:
    return _items(page, grid).filter(has_text=filename)


def _folders(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Folders")


def _folder(page: Page, path: str, count: int) -> Locator:
    """A folder in the sidebar, found by its path and the count it shows."""
    files = "file" if count == 1 else "files"
    return _folders(page).get_by_role("button", name=f"{path}, {count} {files}", exact=True)


def _any_folder(page: Page, path: str) -> Locator:
    return _folders(page).get_by_role(
        "button", name=re.compile(rf"^{re.escape(path)}, \d+ files?$")
    )


def _view(page: Page, name: str) -> Locator:
    """All media, Not in a folder, or Trash."""
    return _folders(page).get_by_role("button", name=name, exact=True)


def _create_folder(page: Page, path: str) -> None:
    _folders(page).get_by_label("New folder").fill(path)
    _folders(page).get_by_role("button", name="Create").click()
    expect(_folder(page, path, 0)).to_have_attribute("aria-current", "true")


def _upload(page: Page, filename: str, data: bytes, media_type: str) -> str:
    """Upload with the page's file input; the new asset's id once it is READY."""
    page.get_by_label("Choose files").set_input_files(
        {"name": filename, "mimeType": media_type, "buffer": data}
    )
    row = page.locator("li.upload", has_text=filename)
    expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    asset_id = row.get_attribute("data-asset-id")
    assert asset_id
    return asset_id


def _captions(page: Page) -> Locator:
    return _items(page).locator("figcaption span:first-child")


# ---- what the API holds -------------------------------------------------------------------


def _stored(stack: LocalStack, user: str, asset_id: str) -> dict:
    response = requests.get(
        f"{stack.api_url}/media/{asset_id}", headers=stack.auth(user), timeout=10
    )
    assert response.status_code == 200, response.text
    asset: dict = response.json()
    return asset


def _patch(stack: LocalStack, user: str, asset_id: str, patch: dict) -> None:
    response = requests.patch(
        f"{stack.api_url}/media/{asset_id}", json=patch, headers=stack.auth(user), timeout=10
    )
    assert response.status_code == 200, response.text


def _direct_upload(
    stack: LocalStack, user: str, filename: str, data: bytes, media_type: str
) -> str:
    response = requests.post(
        f"{stack.api_url}/media/upload",
        files={"file": (filename, data, media_type)},
        headers=stack.auth(user),
        timeout=60,
    )
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["assetId"]
    return asset_id


# ---- tests ----------------------------------------------------------------------------------


def test_a_new_folder_takes_the_uploads_made_while_it_is_open_and_counts_them(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)

    # When they create a folder and upload a photo while it is open
    _create_folder(page, "trips")
    expect(page.locator("#upload-target")).to_have_text("New uploads go into the folder trips.")
    asset_id = _upload(page, "harbour.jpg", jpeg_bytes(800, 600), JPEG)

    # Then the photo is in the folder, and the folder counts it
    expect(page.locator("li.upload", has_text="harbour.jpg")).to_contain_text("into trips")
    expect(_item(page, "harbour.jpg")).to_be_visible()
    expect(_folder(page, "trips", 1)).to_be_visible()
    assert _stored(local_stack, user, asset_id)["folder"] == "trips"

    # And it is among all media, but not among the media in no folder
    _view(page, "Not in a folder").click()
    expect(page.get_by_text("Every file is in a folder.")).to_be_visible()
    expect(_items(page)).to_have_count(0)
    _view(page, "All media").click()
    expect(_item(page, "harbour.jpg")).to_be_visible()
    demo.errors.assert_none()


def test_an_asset_moves_by_its_menu_and_by_dragging_it_onto_a_folder(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    # Given a photo in no folder, and two folders
    asset_id = _upload(page, "meadow.jpg", jpeg_bytes(800, 600, (70, 150, 60)), JPEG)
    _create_folder(page, "alpha")
    _create_folder(page, "beta")
    _view(page, "All media").click()

    # When they move it with its Move button
    _item(page, "meadow.jpg").get_by_role("button", name="Move meadow.jpg").click()
    dialog = page.get_by_role("dialog", name="Move meadow.jpg")
    dialog.get_by_label("Folder", exact=True).select_option("alpha")
    dialog.get_by_role("button", name="Move", exact=True).click()

    # Then it is in alpha, and the counts say so
    expect(dialog).to_be_hidden()
    expect(_folder(page, "alpha", 1)).to_be_visible()
    expect(_folder(page, "beta", 0)).to_be_visible()
    assert _stored(local_stack, user, asset_id)["folder"] == "alpha"

    # When they drag it onto beta
    _item(page, "meadow.jpg").drag_to(_folder(page, "beta", 0))

    # Then it is in beta
    expect(_folder(page, "beta", 1)).to_be_visible()
    expect(_folder(page, "alpha", 0)).to_be_visible()
    assert _stored(local_stack, user, asset_id)["folder"] == "beta"
    _folder(page, "beta", 1).click()
    expect(_item(page, "meadow.jpg")).to_be_visible()

    # When, in beta, they drag it onto "Not in a folder", it leaves the open folder
    _item(page, "meadow.jpg").drag_to(_view(page, "Not in a folder"))
    expect(_items(page)).to_have_count(0)
    expect(_folder(page, "beta", 0)).to_be_visible()
    assert _stored(local_stack, user, asset_id)["folder"] is None
    demo.errors.assert_none()


def test_type_and_tag_filters_search_and_sort_narrow_and_order_the_library(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    # Given two photos in a holidays folder, one tagged beach, and a report in a work folder
    _create_folder(page, "holidays")
    beach = _upload(page, "beach-day.jpg", jpeg_bytes(900, 600, (40, 140, 200)), JPEG)
    _upload(page, "forest.jpg", jpeg_bytes(600, 800, (40, 110, 50)), JPEG)
    _create_folder(page, "work")
    _upload(page, "annual-report.pdf", PDF_BYTES, PDF)
    _patch(local_stack, user, beach, {"tags": ["beach", "summer"], "altText": "A sunny beach"})
    page.reload()
    expect(_items(page)).to_have_count(3)
    images = _items(page).get_by_role("img")
    expect(images).to_have_count(2)
    for image in images.all():
        expect(image).to_have_js_property("complete", True)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-library.png"), full_page=True)

    # When they show documents only, then images only
    page.get_by_label("Type", exact=True).select_option("document")
    expect(_captions(page)).to_have_text(["annual-report.pdf"])
    page.get_by_label("Type", exact=True).select_option("image")
    expect(_captions(page)).to_have_text(["forest.jpg", "beach-day.jpg"])
    page.get_by_label("Type", exact=True).select_option("")

    # When they filter by a typed tag, then by a tag clicked on an item
    tag = page.get_by_label("Tag", exact=True)
    tag.fill("Beach")
    tag.press("Enter")
    expect(_captions(page)).to_have_text(["beach-day.jpg"])
    page.get_by_role("button", name="Remove tag filter beach").click()
    expect(_items(page)).to_have_count(3)
    _item(page, "beach-day.jpg").get_by_role("button", name="Show media tagged summer").click()
    expect(_captions(page)).to_have_text(["beach-day.jpg"])
    page.get_by_role("button", name="Remove tag filter summer").click()
    expect(_items(page)).to_have_count(3)

    # When they search: the filename, the alt text, then nothing that matches
    search = page.get_by_label("Search", exact=True)
    search.fill("REPORT")
    expect(_captions(page)).to_have_text(["annual-report.pdf"])
    search.fill("sunny")
    expect(_captions(page)).to_have_text(["beach-day.jpg"])
    search.fill("nothing-like-this")
    expect(_items(page)).to_have_count(0)
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
    search.fill("")

    # When they sort by name
    page.get_by_label("Sort", exact=True).select_option("filename")
    expect(_captions(page)).to_have_text(["annual-report.pdf", "beach-day.jpg", "forest.jpg"])
    demo.errors.assert_none()


def test_alt_text_and_tags_are_saved_and_still_there_after_a_reload(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    asset_id = _upload(page, "harbour.jpg", jpeg_bytes(800, 600), JPEG)

    # When they edit its alt text and tags
    _item(page, "harbour.jpg").get_by_role("button", name="Edit harbour.jpg").click()
    dialog = page.get_by_role("dialog", name="Edit harbour.jpg")
    expect(dialog.get_by_role("button", name="Save")).to_be_enabled()
    dialog.get_by_label("Alt text").fill("Fishing boats in the harbour at dawn")
    dialog.get_by_label("Tags").fill("Boats, sea , boats")
    dialog.get_by_role("button", name="Save").click()

    # Then the item shows them: the tags as the API keeps them, the alt text on the image
    expect(dialog).to_be_hidden()
    item = _item(page, "harbour.jpg")
    tags = item.get_by_role("group", name="Tags of harbour.jpg").get_by_role("button")
    expect(tags).to_have_text(["#boats", "#sea"])
    expect(item.get_by_role("img", name="Fishing boats in the harbour at dawn")).to_be_visible()
    stored = _stored(local_stack, user, asset_id)
    assert stored["altText"] == "Fishing boats in the harbour at dawn"
    assert stored["tags"] == ["boats", "sea"]

    # And after a reload, the item and its form still show them
    page.reload()
    expect(tags).to_have_text(["#boats", "#sea"])
    expect(item.get_by_role("img", name="Fishing boats in the harbour at dawn")).to_be_visible()
    item.get_by_role("button", name="Edit harbour.jpg").click()
    expect(dialog.get_by_label("Alt text")).to_have_value("Fishing boats in the harbour at dawn")
    expect(dialog.get_by_label("Tags")).to_have_value("boats, sea")
    demo.errors.assert_none()


def test_saving_over_someone_elses_change_is_refused_in_plain_words(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # The stale If-Match answers 412 on purpose; Chromium logs that response.
    demo.errors.expect("status of 412", r"/media/[^/?]+$")
    sign_in(page, user)
    asset_id = _upload(page, "lighthouse.jpg", jpeg_bytes(640, 480), JPEG)

    # Given the form is open when someone else changes the tags
    _item(page, "lighthouse.jpg").get_by_role("button", name="Edit lighthouse.jpg").click()
    dialog = page.get_by_role("dialog", name="Edit lighthouse.jpg")
    expect(dialog.get_by_role("button", name="Save")).to_be_enabled()
    _patch(local_stack, user, asset_id, {"tags": ["theirs"]})

    # When they save their alt text
    dialog.get_by_label("Alt text").fill("A lighthouse")
    dialog.get_by_role("button", name="Save").click()

    # Then the page says so in plain words, and nothing of theirs was written
    expect(dialog.get_by_role("alert")).to_contain_text("Someone else changed this; reload")
    assert _stored(local_stack, user, asset_id)["altText"] is None

    # When they reload the form, it shows the other change, and their save goes through
    dialog.get_by_role("button", name="Reload").click()
    expect(dialog.get_by_label("Tags")).to_have_value("theirs")
    dialog.get_by_label("Alt text").fill("A lighthouse")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    stored = _stored(local_stack, user, asset_id)
    assert (stored["altText"], stored["tags"]) == ("A lighthouse", ["theirs"])
    demo.errors.assert_none()


def test_a_deleted_asset_waits_in_the_trash_and_is_restored_to_its_folder(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    # Given a document in a folder
    _create_folder(page, "keep")
    asset_id = _upload(page, "receipt.pdf", PDF_BYTES, PDF)
    expect(_folder(page, "keep", 1)).to_be_visible()

    # When they delete it
    _item(page, "receipt.pdf").get_by_role("button", name="Delete receipt.pdf").click()

    # Then it leaves the folder and is in the Trash
    expect(_items(page)).to_have_count(0)
    expect(_folder(page, "keep", 0)).to_be_visible()
    assert _stored(local_stack, user, asset_id)["status"] == "DELETED"
    _view(page, "Trash").click()
    trashed = _item(page, "receipt.pdf", grid="Deleted media")
    expect(trashed).to_contain_text("Deleted")

    # When they restore it
    trashed.get_by_role("button", name="Restore receipt.pdf").click()

    # Then the Trash is empty and the document is back in its folder
    expect(_items(page, grid="Deleted media")).to_have_count(0)
    expect(page.get_by_text("The Trash is empty.")).to_be_visible()
    _folder(page, "keep", 1).click()
    expect(_item(page, "receipt.pdf")).to_be_visible()
    stored = _stored(local_stack, user, asset_id)
    assert (stored["status"], stored["folder"]) == ("READY", "keep")
    demo.errors.assert_none()


def test_the_download_link_fetches_the_file_under_its_original_name(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    asset_id = _upload(page, "Quarterly report.pdf", PDF_BYTES, PDF)
    link = _item(page, "Quarterly report.pdf").get_by_role(
        "link", name="Download Quarterly report.pdf"
    )

    # When they click Download
    with page.expect_download() as started:
        link.click()

    # Then the browser saves the file's bytes under its original name
    download = started.value
    assert download.suggested_filename == "Quarterly report.pdf"
    assert Path(download.path()).read_bytes() == PDF_BYTES
    # And the link now points at the object itself, with the filename to save it as
    expect(link).to_have_attribute("download", "Quarterly report.pdf")
    href = link.get_attribute("href") or ""
    assert href.startswith(local_stack.aws_endpoint), href
    assert f"/media/{user}/{asset_id}/" in unquote(urlsplit(href).path), href
    demo.errors.assert_none()


def test_a_folder_is_deleted_at_once_when_empty_and_after_moving_its_contents_when_not(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    # Given a folder holding a document, another folder, and an empty one (open)
    _create_folder(page, "old")
    asset_id = _upload(page, "letter.pdf", PDF_BYTES, PDF)
    _create_folder(page, "new")
    _create_folder(page, "empty")

    # When they delete the empty folder, it goes after one confirmation
    page.get_by_role("button", name="Delete folder empty").click()
    dialog = page.get_by_role("dialog", name="Delete folder empty")
    expect(dialog).to_contain_text("It is empty.")
    dialog.get_by_role("button", name="Delete folder", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(_any_folder(page, "empty")).to_have_count(0)

    # When they delete the folder holding the document, they choose where it goes
    _folder(page, "old", 1).click()
    page.get_by_role("button", name="Delete folder old").click()
    dialog = page.get_by_role("dialog", name="Delete folder old")
    expect(dialog).to_contain_text("It holds 1 file.")
    dialog.get_by_label("Move its contents to").select_option("new")
    dialog.get_by_role("button", name="Move and delete").click()

    # Then the folder is gone, and the other one, now open, holds the document
    expect(dialog).to_be_hidden()
    expect(_any_folder(page, "old")).to_have_count(0)
    expect(_folder(page, "new", 1)).to_have_attribute("aria-current", "true")
    expect(_item(page, "letter.pdf")).to_be_visible()
    assert _stored(local_stack, user, asset_id)["folder"] == "new"
    folders = requests.get(
        f"{local_stack.api_url}/media/folders", headers=local_stack.auth(user), timeout=10
    )
    assert [folder["path"] for folder in folders.json()["items"]] == ["new"]
    demo.errors.assert_none()


def test_a_folder_whose_only_media_is_in_the_trash_moves_it_before_it_goes(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    sign_in(page, user)
    # Given a folder whose one document is in the Trash (the folder counts 0), and another
    _create_folder(page, "drafts")
    asset_id = _upload(page, "draft.pdf", PDF_BYTES, PDF)
    _item(page, "draft.pdf").get_by_role("button", name="Delete draft.pdf").click()
    expect(_folder(page, "drafts", 0)).to_be_visible()
    _create_folder(page, "archive")

    # When they delete the folder, the page says what it holds and asks where it goes
    _folder(page, "drafts", 0).click()
    page.get_by_role("button", name="Delete folder drafts").click()
    dialog = page.get_by_role("dialog", name="Delete folder drafts")
    expect(dialog).to_contain_text("It holds media in the Trash.")
    dialog.get_by_label("Move its contents to").select_option("archive")
    dialog.get_by_role("button", name="Move and delete").click()

    # Then the folder is gone, and the document, still in the Trash, would restore to archive
    expect(dialog).to_be_hidden()
    expect(_any_folder(page, "drafts")).to_have_count(0)
    stored = _stored(local_stack, user, asset_id)
    assert (stored["status"], stored["folder"]) == ("DELETED", "archive")
    demo.errors.assert_none()


def test_load_more_follows_the_cursor_until_every_asset_is_listed(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # Given six documents, and an API that answers one asset per page
    for number in range(6):
        _direct_upload(local_stack, user, f"note-{number}.pdf", PDF_BYTES, PDF)

    def one_per_page(route: Route) -> None:
        route.continue_(url=re.sub(r"\blimit=\d+", "limit=1", route.request.url))

    page.route(re.compile(r"/media\?"), one_per_page)

    # When they sign in, the first page is topped up a few requests' worth, and offers more
    sign_in(page, user)
    expect(_items(page)).to_have_count(5)
    more = page.get_by_role("button", name="Load more")
    expect(more).to_be_visible()

    # When they load more, the rest arrives and there is nothing more to load
    more.click()
    expect(_items(page)).to_have_count(6)
    expect(more).to_be_hidden()
    expect(_captions(page)).to_have_text([f"note-{number}.pdf" for number in reversed(range(6))])
    demo.errors.assert_none()
