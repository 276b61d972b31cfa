"""This app's rows of the access matrix (tests/test_matrix.py reads them): ``rows(t)`` gets the matrix module
(its spec makers: public, login, perm, scoped, owned) and returns {url name: spec}; ``build(m, t)`` makes this
app's objects on side A1 and side B1 through the app's services; ``MARKERS`` maps a model to the field a page
shows of it.

Staff pages are scoped by place grants as everywhere. An organisation's member is the matrix's ``resident``,
bound (``OrgMember``) to the organisation of side A1's enterprise: the member pages (``meetings:my*``) answer
them for side A1's resolution, meeting and need and 404 for side B1's; every other persona is refused there."""

from __future__ import annotations

from meetings.models import (
    Evidence,
    GovService,
    Meeting,
    MeetingSeries,
    Need,
    Organisation,
    OrgGroup,
    Project,
    Resolution,
)

MARKERS: dict = {Organisation: "name", OrgGroup: "name", Resolution: "number", Need: "title"}
# The detail page a list links each listed object to (how the matrix sees a row of side B on a list of side A).
LINKS = {Organisation: "meetings:org", OrgGroup: "meetings:group", Resolution: "meetings:resolution",
         Need: "meetings:need"}


def rows(t) -> dict:
    from people.models import Enterprise

    posted = {"method": "post", "ok": (200, 302, 400)}
    scoped, perm, owned = t.scoped, t.perm, t.owned
    none = {"kw": lambda m, o: {}}
    return {
        "meetings:home": perm("meetings.view_meeting"),
        # organisations and their groupings
        "meetings:orgs": perm("meetings.view_organisation", lists=Organisation),
        "meetings:org_new": perm("meetings.add_organisation"),
        "meetings:org": scoped(Organisation),
        "meetings:org_edit": scoped(Organisation, action="change"),
        "meetings:org_member_add": scoped(Organisation, page="meetings.change_organisation", action="change",
                                          data={"username": "resident"}, **posted),
        "meetings:groups": perm("meetings.view_orggroup", lists=OrgGroup),
        "meetings:group": scoped(OrgGroup),
        "meetings:project": scoped(Project),
        # series and meetings
        "meetings:series": scoped(MeetingSeries, page="meetings.view_meeting"),
        "meetings:meeting_new": scoped(MeetingSeries, page="meetings.convene_meetingseries", action="convene"),
        "meetings:meeting": scoped(Meeting),
        "meetings:meeting_state": scoped(Meeting, page="meetings.change_meeting", action="change",
                                         data={"do": "open"}, method="post", ok=(302,)),
        "meetings:agenda_add": scoped(Meeting, page="meetings.propose_meeting", action="propose",
                                      data={"title": "矩阵测试议题"}, method="post", ok=(302,)),
        "meetings:attendance": scoped(Meeting, page="meetings.change_meeting", action="change", **posted),
        "meetings:minutes": scoped(Meeting, page="meetings.change_meeting", action="change",
                                   data={"text": "矩阵测试纪要"}, method="post", ok=(302,)),
        "meetings:minutes_pdf": scoped(Meeting, page="meetings.view_meeting"),
        "meetings:resolution_add": scoped(Meeting, page="meetings.change_meeting", action="change",
                                          data={"title": "矩阵测试决议"}, method="post", ok=(302,)),
        # resolutions
        "meetings:board": perm("meetings.view_resolution", lists=Resolution),
        "meetings:board_export": perm("meetings.export_resolution"),
        "meetings:resolution": scoped(Resolution),
        "meetings:resolution_assign": scoped(Resolution, page="meetings.change_resolution", action="change",
                                             **posted),
        "meetings:resolution_update": scoped(Resolution, page="meetings.change_resolution", action="change",
                                             data={"progress": "30", "note": "矩阵测试进展"}, method="post",
                                             ok=(302,)),
        "meetings:resolution_confirm": scoped(Resolution, page="meetings.confirm_resolution", action="confirm",
                                              **posted),
        "meetings:evidence": scoped(Resolution, obj="evidence", page="meetings.view_resolution"),
        # enterprise services (the enterprise's own place decides)
        "meetings:enterprises": perm("meetings.view_need"),
        "meetings:enterprise": scoped(Enterprise, page="meetings.view_need"),
        "meetings:instructor": scoped(Enterprise, page="meetings.add_instructorassignment",
                                      need="meetings.add_instructorassignment", **posted),
        "meetings:visit_new": scoped(Enterprise, page="meetings.add_enterprisevisit",
                                     need="meetings.add_enterprisevisit"),
        "meetings:needs": perm("meetings.view_need", lists=Need),
        "meetings:need": scoped(Need),
        "meetings:need_act": scoped(Need, page="meetings.change_need", action="change",
                                    data={"do": "progress", "note": "矩阵测试"}, method="post", ok=(302,)),
        "meetings:tower": perm("meetings.view_need"),
        "meetings:tower_data": perm("meetings.view_need"),
        # government services in the towers: a timetable, no one's data
        "meetings:govservices": t.login(),
        "meetings:govservice_new": perm("meetings.add_govservice"),
        # an organisation's member: their organisation's work, nobody else's
        "meetings:my": owned("org_member", "resident", **none),
        "meetings:my_resolution": owned(Resolution, "resident"),
        "meetings:my_update": owned(Resolution, "resident", data={"progress": "50", "note": "矩阵测试"},
                                    method="post", ok=(302,)),
        "meetings:my_confirm": owned(Resolution, "resident", method="post", ok=(302,)),
        "meetings:my_evidence": owned(Evidence, "resident"),
        "meetings:my_meeting": owned(Meeting, "resident"),
        "meetings:my_propose": owned(Meeting, "resident", data={"title": "企业提议"}, method="post", ok=(302,)),
        "meetings:my_need": owned(Need, "resident"),
        "meetings:my_need_new": owned("org_member", "resident", data={"category": "parking", "title": "车位紧张"},
                                      method="post", ok=(302,), **none),
    }


def build(m, t) -> None:
    import datetime as dt
    import io

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from PIL import Image

    from meetings import services
    from meetings.models import OrgMember
    from people.models import Enterprise

    for model, name in LINKS.items():  # read by the matrix's shown_in (defined after rows() is called)
        t.LIST_LINKS.setdefault(model, name)
    users = {u.username: u for u in get_user_model().objects.all()}
    w = m.world
    day = timezone.localdate() + dt.timedelta(days=2)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(14)))
    for side in ("A1", "B1"):
        ent = m.objects[(Enterprise, side)]
        grid = w.grids[side]
        org = services.save_organisation(None, services.OrgData(kind="enterprise", name="", enterprise=ent,
                                                                contact_phone="13700137000"))
        party = services.save_organisation(None, services.OrgData(kind="party", name=f"{side}党支部",
                                                                  community=grid.community))
        series = services.create_series(None, name=f"{side}联席会议", community=grid.community, grid=grid,
                                        convener=party, organisations=[org, party])
        meeting = services.schedule_meeting(None, series, starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                            title=f"{side}共享食堂")
        res = services.add_resolution(None, meeting, title=f"{side}开设午餐专窗", owner=org, proposer=org)
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (0, 128, 0)).save(buf, "PNG")
        update = services.report_progress(None, res, progress=20, note="已对接",
                                          files=[SimpleUploadedFile("p.png", buf.getvalue())])
        evidence = update.evidence.get()
        group = services.save_group(None, name=f"{side}党建共同体", community=grid.community, grid=grid,
                                    members=[org, party])
        project = services.save_project(None, group=group, name=f"{side}助企便民")
        need = services.raise_need(None, ent, category="parking", title=f"{side}员工停车难")
        services.record_visit(None, ent, visited_on=timezone.localdate(), note="走访")
        gov = services.save_govservice(None, compound=w.compounds[side], name=f"{side}社保咨询", department="人社所",
                                       starts=dt.time(9), ends=dt.time(11), weekdays="3")
        m.objects.update({(Organisation, side): org, (MeetingSeries, side): series, (Meeting, side): meeting,
                          (Resolution, side): res, ("evidence", side): evidence, (Evidence, side): evidence,
                          (OrgGroup, side): group, (Project, side): project, (Need, side): need,
                          (GovService, side): gov})
    m.objects["org_member"] = OrgMember.objects.create(user=users["resident"],
                                                       organisation=m.objects[(Organisation, "A1")])
