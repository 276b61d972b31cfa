"""This app's rows of the access matrix (tests/test_matrix.py reads them): ``rows(t)`` gets the matrix module
(its spec makers: public, login, perm, scoped, owned) and returns {url name: spec}; ``build(m, t)`` makes this
app's objects on side A1 and side B1 through the app's services; ``MARKERS`` maps a model to the field a page
shows of it.

The volunteer of side A1 is the ``resident`` account's (their phone pages); side B1's is someone else's. The API's
list and detail routes are RegistryViewSets on scoped models: the matrix checks them itself."""

from volunteers.models import Shift, Signup, Team, Volunteer

MARKERS: dict = {Volunteer: "number", Team: "name", Shift: "pk", Signup: "pk"}

POST_302 = {"method": "post", "ok": (302,)}


def rows(t) -> dict:
    me = "volunteer_me"
    return {
        # staff pages: a permission held somewhere, then the object's place
        "volunteers:list": t.perm("volunteers.view_volunteer"),
        "volunteers:register": t.perm("volunteers.add_volunteer"),
        "volunteers:volunteer": t.scoped(Volunteer),
        "volunteers:certificate": t.scoped(Volunteer),
        "volunteers:teams": t.perm("volunteers.view_team"),
        "volunteers:calendar": t.perm("volunteers.view_shift"),
        "volunteers:task_new": t.perm("volunteers.add_task", **POST_302),
        "volunteers:shift": t.scoped(Shift),
        "volunteers:mark": t.scoped(Signup, page="volunteers.view_signup", action="change", **POST_302),
        "volunteers:verify": t.scoped(Signup, page="volunteers.verify_signup", action="verify", **POST_302),
        "volunteers:correct": t.scoped(Signup, page="volunteers.verify_signup", action="verify", **POST_302),
        "volunteers:queue": t.perm("volunteers.verify_signup"),
        "volunteers:honour": t.perm("volunteers.view_volunteer"),
        "volunteers:export": t.perm("volunteers.export_volunteer"),
        # the volunteer's own phone pages (an account linked to a volunteer; anyone else 403)
        "volunteers:me": t.owned(me, "resident", kw=lambda m, o: {}),
        "volunteers:join": t.owned(me, "resident", kw=lambda m, o: {"pk": m.objects[(Shift, "A1")].pk}, **POST_302),
        "volunteers:act": t.owned(Signup, "resident", kw=lambda m, o: {"pk": o.pk, "what": "in"}, **POST_302),
        "volunteers:take": t.owned(me, "resident", kw=lambda m, o: {"pk": m.objects["volunteer_offer"].pk}),
        "volunteers:spend": t.owned(me, "resident", kw=lambda m, o: {"pk": m.objects["volunteer_reward"].pk},
                                    **POST_302),
        "volunteers:opinion": t.owned(Signup, "resident"),
        "volunteers:qr": t.owned(me, "resident", kw=lambda m, o: {"token": m.objects[(Shift, "A1")].qr_token}),
    }


def build(m, t) -> None:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from people.models import Person
    from resources.models import Resource
    from volunteers import services
    from volunteers.models import Reward

    w = m.world
    resident = get_user_model().objects.get(username="resident")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(15)))
    for side in ("A1", "B1"):
        grid = w.grids[side]
        person = m.objects[(t.Person, side)]
        vol = services.register_volunteer(None, person, user=resident if side == "A1" else None)
        team = services.create_team(None, grid, f"{side}网格行动支部")
        services.add_member(None, team, vol, "secretary")
        task = services.create_task(None, grid=grid, title=f"{side}探访独居老人", kind="elderly_visit", team=team)
        shift = services.add_shifts(None, task, start, start + dt.timedelta(hours=2), capacity=3)[0]
        signup = services.sign_up(vol, shift)
        m.objects[(Volunteer, side)] = vol
        m.objects[(Team, side)] = team
        m.objects[(Shift, side)] = shift
        m.objects[(Signup, side)] = signup
        if side == "A1":
            m.objects["volunteer_me"] = vol
            other = Person.objects.filter(grid=grid).exclude(pk=person.pk).order_by("id").first()
            helper = services.register_volunteer(None, other)
            services.add_member(None, team, helper)
            offer = services.sign_up(helper, shift)
            services.ask_substitute(offer)
            m.objects["volunteer_offer"] = offer
            service = Resource.objects.create(kind="service", mode="daily", name="A1家政保洁",
                                              compound=w.compounds[side], capacity=2, opens_at=dt.time(9),
                                              closes_at=dt.time(17), horizon_days=30, requires_checkin=False)
            reward = Reward(name="家政保洁一次", resource=service, points=20)
            reward.place_from_grid(grid)
            reward.save()
            m.objects["volunteer_reward"] = reward
