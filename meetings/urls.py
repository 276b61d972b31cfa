from django.urls import path

from meetings import views

app_name = "meetings"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    # organisations and their groupings
    path("orgs/", views.OrgListView.as_view(), name="orgs"),
    path("orgs/new/", views.OrgEditView.as_view(), name="org_new"),
    path("orgs/<int:pk>/", views.OrgDetailView.as_view(), name="org"),
    path("orgs/<int:pk>/edit/", views.OrgEditView.as_view(), name="org_edit"),
    path("orgs/<int:pk>/members/", views.OrgMemberAddView.as_view(), name="org_member_add"),
    path("groups/", views.GroupListView.as_view(), name="groups"),
    path("groups/<int:pk>/", views.GroupDetailView.as_view(), name="group"),
    path("projects/<int:pk>/", views.ProjectDetailView.as_view(), name="project"),
    # series and meetings
    path("series/<int:pk>/", views.SeriesDetailView.as_view(), name="series"),
    path("series/<int:pk>/new/", views.MeetingNewView.as_view(), name="meeting_new"),
    path("m/<int:pk>/", views.MeetingDetailView.as_view(), name="meeting"),
    path("m/<int:pk>/state/", views.MeetingStateView.as_view(), name="meeting_state"),
    path("m/<int:pk>/agenda/", views.AgendaAddView.as_view(), name="agenda_add"),
    path("m/<int:pk>/attendance/", views.AttendanceView.as_view(), name="attendance"),
    path("m/<int:pk>/minutes/", views.MinutesView.as_view(), name="minutes"),
    path("m/<int:pk>/minutes.pdf", views.MinutesPdfView.as_view(), name="minutes_pdf"),
    path("m/<int:pk>/resolutions/", views.ResolutionAddView.as_view(), name="resolution_add"),
    # resolutions
    path("board/", views.BoardView.as_view(), name="board"),
    path("board/export/", views.BoardExportView.as_view(), name="board_export"),
    path("r/<int:pk>/", views.ResolutionDetailView.as_view(), name="resolution"),
    path("r/<int:pk>/assign/", views.ResolutionAssignView.as_view(), name="resolution_assign"),
    path("r/<int:pk>/update/", views.ResolutionUpdateView.as_view(), name="resolution_update"),
    path("r/<int:pk>/confirm/", views.ResolutionConfirmView.as_view(), name="resolution_confirm"),
    path("evidence/<int:pk>/", views.EvidenceView.as_view(), name="evidence"),
    # enterprise services
    path("enterprises/", views.EnterprisesView.as_view(), name="enterprises"),
    path("enterprises/<int:pk>/", views.EnterpriseView.as_view(), name="enterprise"),
    path("enterprises/<int:pk>/instructor/", views.InstructorAssignView.as_view(), name="instructor"),
    path("enterprises/<int:pk>/visit/", views.VisitNewView.as_view(), name="visit_new"),
    path("needs/", views.NeedListView.as_view(), name="needs"),
    path("needs/<int:pk>/", views.NeedDetailView.as_view(), name="need"),
    path("needs/<int:pk>/act/", views.NeedActView.as_view(), name="need_act"),
    path("tower/", views.TowerBoardView.as_view(), name="tower"),
    path("tower/data/", views.TowerDataView.as_view(), name="tower_data"),
    path("services/", views.GovServiceListView.as_view(), name="govservices"),
    path("services/new/", views.GovServiceNewView.as_view(), name="govservice_new"),
    # an organisation's member: their organisation's work
    path("org/", views.MyView.as_view(), name="my"),
    path("org/r/<int:pk>/", views.MyResolutionView.as_view(), name="my_resolution"),
    path("org/r/<int:pk>/update/", views.MyUpdateView.as_view(), name="my_update"),
    path("org/r/<int:pk>/confirm/", views.MyConfirmView.as_view(), name="my_confirm"),
    path("org/evidence/<int:pk>/", views.MyEvidenceView.as_view(), name="my_evidence"),
    path("org/m/<int:pk>/", views.MyMeetingView.as_view(), name="my_meeting"),
    path("org/m/<int:pk>/propose/", views.MyProposeView.as_view(), name="my_propose"),
    path("org/needs/<int:pk>/", views.MyNeedView.as_view(), name="my_need"),
    path("org/needs/new/", views.MyNeedNewView.as_view(), name="my_need_new"),
]
