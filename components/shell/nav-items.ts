import {
  ActivityIcon,
  BellIcon,
  BookOpenIcon,
  BoxesIcon,
  CalendarClockIcon,
  DatabaseIcon,
  KeyRoundIcon,
  LayoutDashboardIcon,
  ScrollTextIcon,
  SettingsIcon,
  UsersIcon,
  type LucideIcon,
} from "lucide-react";

export type Role = "viewer" | "operator" | "admin";

export type ShellUser = { name: string; email: string; role: Role };

export type NavItem = { href: string; label: string; icon: LucideIcon };
export type NavGroup = { id: string; label?: string; items: NavItem[] };

const mainGroup: NavGroup = {
  id: "main",
  items: [
    { href: "/", label: "Overview", icon: LayoutDashboardIcon },
    { href: "/models", label: "Models", icon: BoxesIcon },
    { href: "/datasets", label: "Datasets", icon: DatabaseIcon },
    { href: "/jobs", label: "Jobs", icon: CalendarClockIcon },
    { href: "/monitoring", label: "Monitoring", icon: ActivityIcon },
    { href: "/alerts", label: "Alerts", icon: BellIcon },
    { href: "/settings", label: "Settings", icon: SettingsIcon },
  ],
};

const adminGroup: NavGroup = {
  id: "admin",
  label: "Admin",
  items: [
    { href: "/admin/users", label: "Users", icon: UsersIcon },
    { href: "/settings/tokens", label: "API tokens", icon: KeyRoundIcon },
    { href: "/admin/audit", label: "Audit log", icon: ScrollTextIcon },
  ],
};

const resourcesGroup: NavGroup = {
  id: "resources",
  label: "Resources",
  items: [{ href: "/docs/api", label: "API docs", icon: BookOpenIcon }],
};

/** Navigation visible to a role. The Admin group is presentation only: routes must still check the role. */
export function navGroupsFor(role: Role): NavGroup[] {
  return role === "admin" ? [mainGroup, adminGroup, resourcesGroup] : [mainGroup, resourcesGroup];
}

/**
 * The href of the nav item that owns `pathname`: exact match, otherwise the longest
 * prefix match on a segment boundary (so /settings/tokens activates "API tokens", not "Settings").
 */
export function activeHref(pathname: string, hrefs: readonly string[]): string | null {
  let best: string | null = null;
  for (const href of hrefs) {
    const matches =
      href === "/"
        ? pathname === "/"
        : pathname === href || pathname.startsWith(href.endsWith("/") ? href : `${href}/`);
    if (matches && (best === null || href.length > best.length)) best = href;
  }
  return best;
}

export const roleLabels: Record<Role, string> = {
  viewer: "Viewer",
  operator: "Operator",
  admin: "Admin",
};
