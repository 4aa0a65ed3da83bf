"""Keyboard only: a signed-in citizen writes and submits an idea without a mouse.

The test presses keys and nothing else (no click, fill or focus calls): Tab and Shift+Tab to
move, Enter to follow links and submit, typing into fields, arrow keys in selects. On every
step the focused element must show a visible focus indicator, and the first Tab on a page
must land on the skip link to the main content.
"""
import re
import uuid

from playwright.sync_api import TimeoutError, expect

MAX_TABS = 60

# What the test reads about the focused element (reading is no interaction).
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) { return null; }
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
        href: el.getAttribute('href') || '', type: el.type || '', value: el.value ?? '',
        text: (el.innerText || el.value || '').trim().replace(/\\s+/g, ' '),
        outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
        outlineColor: style.outlineColor, boxShadow: style.boxShadow,
        focusVisible: el.matches(':focus-visible'),
        inViewport: box.bottom > 0 && box.top < window.innerHeight && box.width > 0 && box.height > 0,
        selectedText: el.tagName === 'SELECT' ? el.options[el.selectedIndex].text : '',
    };
}"""


def focused(page):
    return page.evaluate(FOCUSED)


def assert_focus_visible(page, where):
    """The focused element shows a focus indicator (outline or box shadow) and is on screen."""
    info = focused(page)
    assert info is not None, f"{where}: nichts hat den Fokus"
    indicator = (info["outline"] != "none" and info["outlineWidth"] >= 1) or info["boxShadow"] not in ("none", "")
    assert info["focusVisible"] and indicator, f"{where}: Fokus nicht sichtbar: {info}"
    assert info["inViewport"], f"{where}: fokussiertes Element liegt außerhalb des sichtbaren Bereichs: {info}"
    return info


def tab_until(page, matches, where, key="Tab"):
    """Press Tab (or Shift+Tab) until `matches(info)`; every stop must show its focus."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        info = assert_focus_visible(page, where)
        if matches(info):
            return info
        seen.append(info["text"][:40] or info["id"] or info["tag"])
    raise AssertionError(f"{where}: nach {MAX_TABS}× {key} nicht erreicht; besucht: {seen}")


def first_tab_is_skip_link(page, where):
    """From the top of a fresh page, the first Tab lands on the skip link; Enter moves to main."""
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    info = assert_focus_visible(page, f"{where}, erster Tab")
    assert info["tag"] == "a" and info["href"] == "#inhalt", f"{where}: erster Tab nicht auf dem Sprunglink: {info}"
    assert info["text"] == "Zum Inhalt springen", info
    page.keyboard.press("Enter")
    try:  # following the fragment moves the focus a moment later
        page.wait_for_function("document.activeElement && document.activeElement.id === 'inhalt'", timeout=3000)
    except TimeoutError as error:
        raise AssertionError(f"{where}: Sprunglink führt nicht zum Inhalt: {focused(page)}") from error


def choose_with_arrows(page, wanted, where):
    """In the focused (closed) select, ArrowDown/ArrowUp until the option `wanted` is chosen."""
    for key in ("ArrowDown", "ArrowUp"):
        for _ in range(40):
            if focused(page)["selectedText"] == wanted:
                return
            before = focused(page)["selectedText"]
            page.keyboard.press(key)
            if focused(page)["selectedText"] == before:
                break  # the end of the list in this direction
    raise AssertionError(f"{where}: Option „{wanted}“ mit den Pfeiltasten nicht erreicht")


def test_citizen_writes_idea_with_keyboard_only(make_page):
    page = make_page("citizen")
    page.goto("/")

    # Start page: skip link first, then into the navigation to "Ideen" (Shift+Tab goes back
    # from the main content into the header).
    first_tab_is_skip_link(page, "Startseite")
    tab_until(page, lambda i: i["tag"] == "a" and i["text"] == "Ideen" and i["href"] == "/ideen/",
              "Startseite: Navigation rückwärts", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ideen/(#inhalt)?$"))

    # The idea list: skip link, then the "Idee einreichen" link in the main content.
    first_tab_is_skip_link(page, "Ideenliste")
    tab_until(page, lambda i: i["tag"] == "a" and i["text"] == "Idee einreichen", "Ideenliste")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ideen/neu(#inhalt)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Idee einreichen")

    # The form: skip link, then field by field.
    first_tab_is_skip_link(page, "Ideenformular")
    title = f"Trinkbrunnen am Holzmarkt, per Tastatur eingereicht {uuid.uuid4().hex[:6]}"
    text = "Im Sommer fehlt in der Innenstadt Trinkwasser. Ein Trinkbrunnen am Holzmarkt hilft bei Hitze."
    tab_until(page, lambda i: i["id"] == "title", "Ideenformular: Titel")
    page.keyboard.type(title)
    info = tab_until(page, lambda i: i["id"] == "text", "Ideenformular: Beschreibung")
    assert info["tag"] == "textarea"
    page.keyboard.type(text)
    tab_until(page, lambda i: i["id"] == "sector", "Ideenformular: Handlungsfeld")
    choose_with_arrows(page, "Übergreifend", "Handlungsfeld")
    tab_until(page, lambda i: i["id"] == "district", "Ideenformular: Stadtteil")
    choose_with_arrows(page, "Jena-Zentrum", "Stadtteil")
    # Back and forth once: Shift+Tab returns to the field of action, which kept its choice.
    info = tab_until(page, lambda i: i["id"] == "sector", "Ideenformular zurück", key="Shift+Tab")
    assert info["selectedText"] == "Übergreifend"
    tab_until(page, lambda i: i["id"] == "district", "Ideenformular vor")
    info = tab_until(page, lambda i: i["type"] == "submit", "Ideenformular: Absenden")
    assert info["value"] == "Idee veröffentlichen", info
    page.keyboard.press("Enter")

    # (The skip link's #inhalt stays in the address across the redirect, as browsers keep it.)
    expect(page).to_have_url(re.compile(r"/ideen/\d+(#inhalt)?$"))
    expect(page.locator(".flashes")).to_contain_text("Danke! Ihre Idee ist veröffentlicht.")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".idea-text")).to_contain_text("Ein Trinkbrunnen am Holzmarkt hilft bei Hitze.")
    facts = page.locator(".idea-detail .facts")
    expect(facts).to_contain_text("Übergreifend")
    expect(facts).to_contain_text("Jena-Zentrum")
    # The author's next step, editing, is reachable by keyboard too. (The page opens at #inhalt,
    # which takes the focus once the page has loaded, so Tab starts in the main content.)
    page.wait_for_load_state("load")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'inhalt'")
    tab_until(page, lambda i: i["tag"] == "a" and i["text"] == "Idee bearbeiten", "Ideenseite")
