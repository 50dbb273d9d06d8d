"""Public consultation: anyone comments while the draft recommendation is open for comment;
the agency publishes or rejects each comment and answers the published ones."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.core.audit import verify_chain
from app.extensions import db
from app.models import AuditEntry, ConsultationComment
from tests.functional.test_public_register import (
    fresh,
    page,
    public_request,
    recommend,
    set_language,
)


@pytest.fixture(autouse=True)
def english(client):
    set_language(client, "en")


@pytest.fixture
def open_request(make):
    request = public_request(make, "consultation", trade_name="Consulted Valve")
    recommend(request, "recommended_restricted", "Draft: only in heart centres.", published=False)
    fresh()
    return request


@pytest.fixture
def agency(make, login):
    user = make.user("agency")
    fresh()
    login(user)
    return user


def comments():
    db.session.expire_all()
    return db.session.scalars(select(ConsultationComment).order_by(ConsultationComment.id)).all()


def add_comment(request, status="pending", **fields):
    comment = ConsultationComment(
        request_id=request.id, text=fields.pop("text", "A comment."), status=status, **fields
    )
    db.session.add(comment)
    fresh()
    return comment


def post_comment(client, request, **data):
    form = {"author_name": "", "author_email": "", "text": "", "website": ""} | data
    return client.post(f"/register/{request.id}/comments", data=form)


# --- the public side ---------------------------------------------------------------------------


def test_the_draft_and_the_comment_form_are_shown_while_the_consultation_is_open(
    client, open_request
):
    html = page(client, f"/register/{open_request.id}")
    assert "Public consultation on the draft recommendation" in html
    assert "Draft: only in heart centres." in html
    assert "Recommended with restrictions" in html
    assert 'name="text"' in html
    assert "Comments are open until" in html


def test_no_comment_form_once_the_consultation_is_over(client, make):
    request = public_request(make, "adoption_monitoring")
    recommend(request, "recommended")
    html = page(client, f"/register/{request.id}")
    assert 'name="text"' not in html
    response = post_comment(client, request, text="Too late")
    assert response.status_code == 302
    assert comments() == []
    assert "The consultation on this request is closed." in page(client, f"/register/{request.id}")


def test_a_comment_is_stored_pending_and_not_shown_until_published(client, open_request):
    response = post_comment(
        client,
        open_request,
        author_name="Dr Rossi",
        author_email="Rossi@Example.org",
        text="Please consider paediatric use.",
    )
    assert response.status_code == 302
    html = page(client, response.headers["Location"])
    assert "Your comment will appear here once the agency has reviewed it." in html
    assert "Please consider paediatric use." not in html
    [comment] = comments()
    assert comment.status == "pending"
    assert comment.author_name == "Dr Rossi"
    assert comment.author_email == "rossi@example.org"


def test_an_empty_comment_gets_a_message_and_keeps_what_was_typed(client, open_request):
    response = post_comment(client, open_request, author_name="Anna Bianchi", text="   ")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Write your comment." in html
    assert 'value="Anna Bianchi"' in html
    assert comments() == []


def test_a_malformed_email_gets_a_message(client, open_request):
    response = post_comment(client, open_request, author_email="not-an-email", text="Hello")
    html = response.get_data(as_text=True)
    assert "Enter a valid email address" in html
    assert "Hello</textarea>" in html
    assert comments() == []


def test_the_honeypot_silently_drops_bot_comments(client, open_request):
    response = post_comment(client, open_request, text="Buy now", website="http://spam")
    assert response.status_code == 302
    assert "once the agency has reviewed it" in page(client, response.headers["Location"])
    assert comments() == []


def test_comments_on_requests_outside_the_register_are_404(client, make):
    hidden = public_request(make, "consultation", consent=False)
    fresh()
    assert post_comment(client, hidden, text="Hi").status_code == 404
    assert post_comment(client, type("R", (), {"id": 999999})(), text="Hi").status_code == 404


def test_the_comment_form_is_csrf_protected(app, client, open_request):
    app.config["WTF_CSRF_ENABLED"] = True
    response = post_comment(client, open_request, text="No token")
    assert response.status_code == 400
    assert comments() == []
    html = page(client, f"/register/{open_request.id}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', html)
    response = post_comment(client, open_request, text="With token", csrf_token=token.group(1))
    assert response.status_code == 302
    assert [c.text for c in comments()] == ["With token"]


def test_published_comments_and_answers_appear_without_the_email(client, open_request):
    add_comment(
        open_request,
        "published",
        author_name="",
        author_email="hidden@example.org",
        text="Published text.",
        answer="Agency answer.",
    )
    add_comment(open_request, "rejected", text="Rejected text.", moderation_reason="Off topic")
    html = page(client, f"/register/{open_request.id}")
    assert "Published text." in html
    assert "Agency answer." in html
    assert "Anonymous" in html
    assert "hidden@example.org" not in html
    assert "Rejected text." not in html
    assert "Off topic" not in html


# --- the agency side ---------------------------------------------------------------------------


def test_moderation_needs_a_login(client):
    response = client.get("/register/moderation")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["manufacturer", "assessor", "irccs", "admin"])
def test_moderation_is_for_the_agency_only(client, make, login, open_request, role):
    comment = add_comment(open_request)
    user = make.user(role)
    fresh()
    login(user)
    assert client.get("/register/moderation").status_code == 403
    assert client.get(f"/register/moderation/{open_request.id}").status_code == 403
    response = client.post(
        f"/register/moderation/comments/{comment.id}/moderate",
        data={f"moderate-{comment.id}-decision": "publish"},
    )
    assert response.status_code == 403
    assert comments()[0].status == "pending"


def test_the_agency_sees_comments_per_request_with_the_private_email(client, agency, open_request):
    add_comment(open_request, author_email="writer@example.org", text="Pending one.")
    add_comment(open_request, "published", text="Published one.")
    overview = page(client, "/register/moderation")
    assert "Consulted Valve" in overview
    html = page(client, f"/register/moderation/{open_request.id}")
    assert "Pending one." in html and "Published one." in html
    assert "writer@example.org" in html
    assert "To moderate" in html


def test_publishing_a_comment_shows_it_publicly_and_is_audited(client, agency, open_request):
    comment = add_comment(open_request, text="Worth publishing.")
    response = client.post(
        f"/register/moderation/comments/{comment.id}/moderate",
        data={f"moderate-{comment.id}-decision": "publish", f"moderate-{comment.id}-reason": ""},
    )
    assert response.status_code == 302
    assert "Comment published." in page(client, response.headers["Location"])
    assert comments()[0].status == "published"
    assert comments()[0].moderated_by_id == agency.id
    assert "Worth publishing." in page(client, f"/register/{open_request.id}")
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "consultation_comment")
    ).all()
    assert (entry.action, entry.entity_id, entry.request_id) == (
        "publish_comment",
        comment.id,
        open_request.id,
    )
    assert (entry.from_state, entry.to_state) == ("pending", "published")
    assert verify_chain().ok


def test_rejecting_needs_a_reason_which_stays_private(client, agency, open_request):
    comment = add_comment(open_request, text="Spam text.")
    url = f"/register/moderation/comments/{comment.id}/moderate"
    prefix = f"moderate-{comment.id}-"
    response = client.post(url, data={prefix + "decision": "reject", prefix + "reason": ""})
    assert response.status_code == 200
    assert "Say why the comment is rejected." in response.get_data(as_text=True)
    assert comments()[0].status == "pending"
    response = client.post(
        url, data={prefix + "decision": "reject", prefix + "reason": "Advertising."}
    )
    assert response.status_code == 302
    assert comments()[0].status == "rejected"
    assert comments()[0].moderation_reason == "Advertising."
    public = page(client, f"/register/{open_request.id}")
    assert "Spam text." not in public and "Advertising." not in public
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "consultation_comment")
    ).one()
    assert (entry.action, entry.reason) == ("reject_comment", "Advertising.")


def test_a_comment_cannot_be_moderated_twice(client, agency, open_request):
    comment = add_comment(open_request, "published")
    response = client.post(
        f"/register/moderation/comments/{comment.id}/moderate",
        data={f"moderate-{comment.id}-decision": "reject", f"moderate-{comment.id}-reason": "x"},
    )
    assert response.status_code == 302
    assert "already been moderated" in page(client, response.headers["Location"])
    assert comments()[0].status == "published"


def test_answering_a_published_comment_shows_the_answer_and_is_audited(
    client, agency, open_request
):
    comment = add_comment(open_request, "published", text="A question?")
    url = f"/register/moderation/comments/{comment.id}/answer"
    response = client.post(url, data={f"answer-{comment.id}-answer": "Our answer."})
    assert response.status_code == 302
    html = page(client, f"/register/{open_request.id}")
    assert "A question?" in html and "Our answer." in html
    assert comments()[0].answered_at is not None
    client.post(url, data={f"answer-{comment.id}-answer": "A better answer."})
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "consultation_comment")
        .order_by(AuditEntry.seq)
    ).all()
    assert [e.action for e in entries] == ["answer_comment", "answer_comment"]
    assert entries[1].changes == {"answer": ["Our answer.", "A better answer."]}
    assert all(e.request_id == open_request.id for e in entries)
    assert verify_chain().ok


def test_an_empty_answer_gets_a_message(client, agency, open_request):
    comment = add_comment(open_request, "published")
    response = client.post(
        f"/register/moderation/comments/{comment.id}/answer",
        data={f"answer-{comment.id}-answer": ""},
    )
    assert response.status_code == 200
    assert "Write the answer." in response.get_data(as_text=True)


def test_a_pending_comment_cannot_be_answered(client, agency, open_request):
    comment = add_comment(open_request)
    response = client.post(
        f"/register/moderation/comments/{comment.id}/answer",
        data={f"answer-{comment.id}-answer": "Premature"},
    )
    assert response.status_code == 302
    assert "Only published comments can be answered." in page(client, response.headers["Location"])
    assert comments()[0].answer == ""


def test_unknown_comment_or_request_is_404_for_the_agency(client, agency):
    assert client.get("/register/moderation/999999").status_code == 404
    response = client.post(
        "/register/moderation/comments/999999/moderate",
        data={"moderate-999999-decision": "publish"},
    )
    assert response.status_code == 404


def test_comments_waiting_for_moderation_show_on_the_request_page_and_in_the_work_queue(
    client, agency, open_request, make, login
):
    add_comment(open_request, text="Pending one.")
    add_comment(open_request, text="Pending two.")
    add_comment(open_request, status="published", text="Already published.")
    moderation_url = f"/register/moderation/{open_request.id}"

    detail = client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    notice = detail.split('id="pending-comments"')[1].split("</div>")[0]
    assert "2 consultation comments are waiting for moderation." in notice
    assert f'href="{moderation_url}"' in notice

    queue = client.get("/work/").get_data(as_text=True)
    card = queue.split('id="pending-comments"')[1].split("</section>")[0]
    assert "Consultation Valve" not in card and "Consulted Valve" in card
    assert "2 comments to moderate" in card and f'href="{moderation_url}"' in card

    # Once moderated, nothing is said any more.
    for comment in comments():
        if comment.status == "pending":
            comment.status = "published"
    fresh()
    assert 'id="pending-comments"' not in client.get(f"/requests/{open_request.id}").get_data(
        as_text=True
    )
    assert 'id="pending-comments"' not in client.get("/work/").get_data(as_text=True)
