"""Do-not-contact lists: normalising, matching (email, domain, project, global), bulk import, pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from prospects.choices import SuppressionKind
from prospects.models import Suppression
from prospects.services.projects import project_create
from prospects.services.suppression import (
    SuppressionError,
    SuppressionValue,
    suppressed_domains,
    suppression_add,
    suppression_import,
    suppression_match,
    suppression_normalise,
    suppression_remove,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(manager, alice):
    return project_create(name="Shop", created_by=manager, members=[alice])


@pytest.fixture
def blog(bob):
    return project_create(name="Blog", created_by=None, members=[bob])


# --- normalising -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, kind, normalised",
    [
        (" Jane@Example.COM ", "email", "jane@example.com"),
        ("shop.com", "domain", "shop.com"),
        ("WWW.Shop.com.", "domain", "shop.com"),
        ("https://blog.shop.co.uk/write-for-us?x=1", "domain", "shop.co.uk"),
        ("@shop.com", "domain", "shop.com"),
        ("*@shop.com", "domain", "shop.com"),
        ("Bücher.de", "domain", "xn--bcher-kva.de"),
    ],
)
def test_values_are_normalised(value, kind, normalised):
    assert suppression_normalise(value) == SuppressionValue(SuppressionKind(kind), normalised)


@pytest.mark.parametrize("value", ["", "jane@", "not an email@x", "co.uk", "com", "two words.com", "@"])
def test_values_that_are_neither_email_nor_domain_are_refused(value):
    with pytest.raises(SuppressionError):
        suppression_normalise(value)


def test_adding_twice_in_other_spellings_keeps_one_entry(shop, manager):
    first, created = suppression_add(project=shop, value="Jane@Shop.com", reason="asked", created_by=manager)
    again, created_again = suppression_add(project=shop, value="jane@shop.COM")
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert again.reason == "asked" and Suppression.objects.count() == 1


def test_the_same_value_may_be_global_and_per_project(shop):
    suppression_add(project=None, value="shop.com")
    suppression_add(project=shop, value="shop.com")
    assert Suppression.objects.filter(value="shop.com").count() == 2


def test_a_bad_value_writes_nothing(shop):
    with pytest.raises(SuppressionError):
        suppression_add(project=shop, value="nonsense")
    assert not Suppression.objects.exists()


# --- matching ----------------------------------------------------------------------------------


def test_an_email_entry_matches_that_address_in_any_case(shop):
    entry, _ = suppression_add(project=shop, value="jane@shop.com")
    assert suppression_match(project=shop, email="JANE@Shop.com") == entry
    assert suppression_match(project=shop, email="john@shop.com") is None
    assert suppression_match(project=shop, domain="shop.com") is None  # one address does not block the site


def test_a_domain_entry_matches_every_address_and_host_under_it(shop):
    entry, _ = suppression_add(project=shop, value="shop.com")
    assert suppression_match(project=shop, email="anyone@mail.shop.com") == entry
    assert suppression_match(project=shop, domain="https://blog.shop.com/page") == entry
    assert suppression_match(project=shop, domain="WWW.SHOP.COM") == entry
    assert suppression_match(project=shop, email="x@othershop.com") is None


def test_project_entries_stay_in_their_project_and_global_ones_apply_everywhere(shop, blog):
    local, _ = suppression_add(project=shop, value="local.com")
    everywhere, _ = suppression_add(project=None, value="everywhere.com")
    assert suppression_match(project=shop, domain="local.com") == local
    assert suppression_match(project=blog, domain="local.com") is None
    assert suppression_match(project=None, domain="local.com") is None
    assert suppression_match(project=blog.pk, domain="everywhere.com") == everywhere
    assert suppression_match(project=None, email="a@everywhere.com") == everywhere


def test_the_most_specific_entry_is_returned(shop):
    suppression_add(project=None, value="shop.com")
    project_domain, _ = suppression_add(project=shop, value="shop.com")
    address, _ = suppression_add(project=None, value="jane@shop.com")
    assert suppression_match(project=shop, email="jane@shop.com") == address  # email before domain
    assert suppression_match(project=shop, email="john@shop.com") == project_domain  # project before global


def test_unreadable_input_matches_nothing(shop):
    suppression_add(project=None, value="shop.com")
    assert suppression_match(project=shop, email="not an address") is None
    assert suppression_match(project=shop) is None
    assert suppression_match(project=shop, domain="") is None


def test_many_domains_are_checked_in_one_query(shop, blog, django_assert_num_queries):
    suppression_add(project=shop, value="a.com")
    suppression_add(project=None, value="b.com")
    suppression_add(project=blog, value="c.com")
    with django_assert_num_queries(1):
        found = suppressed_domains(project=shop, domains=["a.com", "b.com", "c.com", "d.com"])
    assert found == {"a.com", "b.com"}


def test_removing_an_entry(shop):
    entry, _ = suppression_add(project=shop, value="shop.com")
    assert suppression_remove(suppression_id=entry.pk) is True
    assert suppression_remove(suppression_id=entry.pk) is False
    assert suppression_match(project=shop, domain="shop.com") is None


# --- bulk import ---------------------------------------------------------------------------------

GOOD = '\ufeffemail,reason\nJane@Shop.com,asked us\n# a comment\n\nshop2.com\n"jane@shop.com"\n' \
       'https://www.blog.example.org/x,"competitor, never"\n'


def test_import_reads_csv_and_plain_lines(shop, manager):
    result = suppression_import(project=shop, text=GOOD, created_by=manager, reason="list from client")
    assert (result.added, result.existing, result.errors) == (3, 0, [])
    rows = {s.value: (s.kind, s.reason) for s in Suppression.objects.filter(project=shop)}
    assert rows == {
        "jane@shop.com": ("email", "asked us"),
        "shop2.com": ("domain", "list from client"),
        "example.org": ("domain", "competitor, never"),
    }
    again = suppression_import(project=shop, text=GOOD)
    assert (again.added, again.existing) == (0, 3)


def test_a_bad_line_is_reported_by_number_and_nothing_is_written(shop):
    text = "good.com\nnot an address@\nalso-good@shop.com\nco.uk\n"
    result = suppression_import(project=shop, text=text)
    assert [(line, value) for line, value, _ in result.errors] == [(2, "not an address@"), (4, "co.uk")]
    assert "not a valid email address" in result.errors[0][2]
    assert result.added == 0 and not Suppression.objects.exists()


def test_skip_invalid_imports_the_good_lines(shop):
    result = suppression_import(project=shop, text="good.com\nbad@\nfine@shop.com\n", skip_invalid=True)
    assert result.added == 2 and [line for line, _, _ in result.errors] == [2]
    assert set(Suppression.objects.values_list("value", flat=True)) == {"good.com", "fine@shop.com"}


# --- pages ---------------------------------------------------------------------------------------


def test_a_member_adds_to_the_project_list(shop, alice, client_for):
    client = client_for(alice)
    form = {"value": "Jane@Shop.com", "reason": "asked"}
    response = client.post(f"/projects/{shop.pk}/do-not-contact/", form)
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert (entry.project, entry.value, entry.created_by) == (shop, "jane@shop.com", alice)
    assert "jane@shop.com" in client.get(f"/projects/{shop.pk}/do-not-contact/").content.decode()


def test_a_bad_value_on_the_page_shows_why(shop, alice, client_for):
    page = client_for(alice).post(f"/projects/{shop.pk}/do-not-contact/", {"value": "co.uk"}).content.decode()
    assert "public suffix" in page and not Suppression.objects.exists()


def test_other_projects_lists_are_not_found(shop, bob, client_for):
    assert client_for(bob).get(f"/projects/{shop.pk}/do-not-contact/").status_code == 404
    assert client_for(bob).post(f"/projects/{shop.pk}/do-not-contact/", {"value": "x.com"}).status_code == 404
    assert not Suppression.objects.exists()


def test_only_managers_remove_entries_and_see_the_global_list(shop, alice, manager, client_for):
    entry, _ = suppression_add(project=shop, value="shop.com")
    assert client_for(alice).post(f"/do-not-contact/{entry.pk}/delete/").status_code == 403
    assert client_for(alice).get("/do-not-contact/").status_code == 403
    response = client_for(manager).post(f"/do-not-contact/{entry.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/projects/{shop.pk}/do-not-contact/"
    assert not Suppression.objects.exists()


def test_a_manager_keeps_the_global_list(manager, client_for):
    client = client_for(manager)
    client.post("/do-not-contact/", {"value": "competitor.com", "reason": "never"})
    entry = Suppression.objects.get()
    assert entry.project is None and entry.kind == SuppressionKind.DOMAIN
    assert "competitor.com" in client.get("/do-not-contact/").content.decode()


def test_the_project_page_says_how_many_global_entries_apply(shop, alice, client_for):
    suppression_add(project=None, value="a.com")
    suppression_add(project=None, value="b@c.com")
    page = client_for(alice).get(f"/projects/{shop.pk}/do-not-contact/").content.decode()
    assert "2 global entries apply too" in page
    assert "a.com" not in page  # outreach staff see the count, not the global list


def test_the_import_page_lists_bad_lines_and_writes_nothing(shop, alice, client_for):
    response = client_for(alice).post(
        f"/projects/{shop.pk}/do-not-contact/import/", {"text": "ok.com\nbroken@\n"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' in page
    assert "<td>2</td><td>broken@</td>" in page and not Suppression.objects.exists()


def test_the_import_page_takes_a_file(shop, alice, client_for):
    upload = SimpleUploadedFile("list.csv", "value,reason\nshop.com,client\nx@y.com\n".encode("utf-8-sig"))
    response = client_for(alice).post(f"/projects/{shop.pk}/do-not-contact/import/", {"file": upload})
    assert response.status_code == 302
    values = set(Suppression.objects.filter(project=shop).values_list("value", flat=True))
    assert values == {"shop.com", "x@y.com"}
