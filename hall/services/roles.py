"""Who may see and do what on the console, and the query filters that enforce it.

Four roles (issue 11 part 4)::

    county_admin   everything of their county: applications, devices, users, the audit log
    technician     the county's devices (fleet, commands, configuration, enrolment); no applications
    clerk          the applications of their department's service items; processes them
    viewer         reads applications and devices of their county; changes nothing

Every console query goes through a ``Scope``: a user of one county sees nothing of
another, and a clerk nothing of another department, even by guessing ids — a row out of
scope is answered exactly like a row that does not exist (404), so ids cannot be probed.
A role that may not see a kind of page at all gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false

from hall.errors import Forbidden, NotFound
from hall.models import Application, Device

COUNTY_ADMIN, TECHNICIAN, CLERK, VIEWER = "county_admin", "technician", "clerk", "viewer"
ROLES = (COUNTY_ADMIN, TECHNICIAN, CLERK, VIEWER)
ROLE_LABELS = {COUNTY_ADMIN: "县级管理员 County admin", TECHNICIAN: "技术员 Technician",
               CLERK: "窗口人员 Clerk", VIEWER: "查看人员 Viewer"}


@dataclass(frozen=True)
class Scope:
    username: str
    role: str
    county: str
    department: str = ""
    item_codes: tuple[str, ...] = ()  # a clerk's department's items (from the catalog)

    @property
    def sees_applications(self) -> bool:
        return self.role in (COUNTY_ADMIN, CLERK, VIEWER)

    @property
    def processes_applications(self) -> bool:
        return self.role in (COUNTY_ADMIN, CLERK)

    @property
    def sees_devices(self) -> bool:
        return self.role in (COUNTY_ADMIN, TECHNICIAN, VIEWER)

    @property
    def manages_devices(self) -> bool:
        return self.role in (COUNTY_ADMIN, TECHNICIAN)

    @property
    def manages_users(self) -> bool:
        return self.role == COUNTY_ADMIN

    @property
    def manages_releases(self) -> bool:
        # a release reaches every kiosk the hall serves: county admins only, not technicians
        return self.role == COUNTY_ADMIN

    def require(self, allowed: bool) -> None:
        if not allowed:
            raise Forbidden("your role does not allow this page", code="forbidden")

    def application_filter(self) -> list[ColumnElement[bool]]:
        """WHERE conditions for the applications this user may see."""
        if not self.sees_applications:
            return [false()]
        conditions: list[ColumnElement[bool]] = [Application.county == self.county]
        if self.role == CLERK:
            conditions.append(Application.service_code.in_(self.item_codes) if self.item_codes else false())
        return conditions

    def device_filter(self) -> list[ColumnElement[bool]]:
        if not self.sees_devices:
            return [false()]
        return [Device.county == self.county]

    def check_application(self, application: Application | None, app_id: str) -> Application:
        """The application if in scope; NotFound otherwise (the same answer as a wrong id)."""
        self.require(self.sees_applications)
        if (application is None or application.county != self.county
                or (self.role == CLERK and application.service_code not in self.item_codes)):
            raise NotFound(f"no application {app_id}", code="application_not_found")
        return application

    def check_device(self, device: Device | None, device_id: str) -> Device:
        self.require(self.sees_devices)
        if device is None or device.county != self.county:
            raise NotFound(f"no device {device_id}", code="device_not_found")
        return device
