-- 0012_access: roles, permissions and restrictions (core/access), Barong's
-- model enforced for every namespace by the gateway's gate.
--
-- roles: the configurable role set. rank orders them: nobody may give a
-- role of a higher rank than their own (admin.users.role). A user whose
-- users.role is '' is a member.
CREATE TABLE roles (
    name        TEXT PRIMARY KEY CHECK (name <> ''),
    rank        INTEGER NOT NULL CHECK (rank >= 0),
    description TEXT NOT NULL DEFAULT ''
);

-- permissions: Barong's rows. verb and path name REST routes, which map to
-- method names by the rule of METHODS.md (GET /admin/users <-> admin.users.list);
-- path '*' is every route. A call is admitted when a row of the caller's
-- role ACCEPTs it and none DROPs it; AUDIT rows record it in the trail.
CREATE TABLE permissions (
    id         BIGSERIAL PRIMARY KEY,
    role       TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    verb       TEXT NOT NULL CHECK (verb IN ('ALL', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    path       TEXT NOT NULL CHECK (path <> ''),
    action     TEXT NOT NULL CHECK (action IN ('ACCEPT', 'DROP', 'AUDIT')),
    topic      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (role, verb, path, action)
);

-- restrictions: checked on every call before the method runs. value is an
-- IP, a CIDR, an ISO country code, a continent code or 'all', by scope.
CREATE TABLE restrictions (
    id         BIGSERIAL PRIMARY KEY,
    category   TEXT NOT NULL CHECK (category IN ('whitelist', 'blacklist', 'maintenance', 'blocklogin')),
    scope      TEXT NOT NULL CHECK (scope IN ('ip', 'ip_subnet', 'country', 'continent', 'all')),
    value      TEXT NOT NULL CHECK (value <> ''),
    code       INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (category, scope, value)
);

-- The defaults keep what worked before roles existed: every role calls the
-- user namespaces (user, identity, resource, users, account, files) as a
-- member does; the admin roles get Barong's seeded shares of admin.*.
INSERT INTO roles (name, rank, description) VALUES
    ('superadmin', 100, 'everything, permissions and roles included'),
    ('admin', 80, 'every admin method but permissions, roles and the admin trail'),
    ('compliance', 50, 'reads the admin side, manages users'),
    ('technical', 50, 'reads the admin side, manages restrictions'),
    ('accountant', 50, 'reads the admin side'),
    ('support', 50, 'reads the admin side, updates users (2FA off, ban)'),
    ('member', 0, 'a user: their own resources only');

INSERT INTO permissions (role, verb, path, action, topic, created_at, updated_at) VALUES
    ('superadmin', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('superadmin', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('superadmin', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('superadmin', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('superadmin', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('superadmin', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('accountant', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('accountant', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('accountant', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('accountant', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('accountant', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('accountant', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('member', 'ALL', '/user', 'ACCEPT', '', 0, 0),
    ('member', 'ALL', '/identity', 'ACCEPT', '', 0, 0),
    ('member', 'ALL', '/resource', 'ACCEPT', '', 0, 0),
    ('member', 'ALL', '/users', 'ACCEPT', '', 0, 0),
    ('member', 'ALL', '/account', 'ACCEPT', '', 0, 0),
    ('member', 'ALL', '/files', 'ACCEPT', '', 0, 0),
    ('superadmin', 'ALL', '/admin', 'ACCEPT', '', 0, 0),
    ('superadmin', 'POST', '/admin', 'AUDIT', 'admin', 0, 0),
    ('superadmin', 'PUT', '/admin', 'AUDIT', 'admin', 0, 0),
    ('superadmin', 'DELETE', '/admin', 'AUDIT', 'admin', 0, 0),
    ('admin', 'ALL', '/admin', 'ACCEPT', '', 0, 0),
    ('admin', 'ALL', '/admin/permissions', 'DROP', '', 0, 0),
    ('admin', 'ALL', '/admin/users/role', 'DROP', '', 0, 0),
    ('admin', 'ALL', '/admin/activities/admin', 'DROP', '', 0, 0),
    ('admin', 'POST', '/admin', 'AUDIT', 'admin', 0, 0),
    ('admin', 'PUT', '/admin', 'AUDIT', 'admin', 0, 0),
    ('admin', 'DELETE', '/admin', 'AUDIT', 'admin', 0, 0),
    ('compliance', 'GET', '/admin', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/admin/users', 'ACCEPT', '', 0, 0),
    ('compliance', 'ALL', '/admin/restrictions', 'DROP', '', 0, 0),
    ('compliance', 'ALL', '/admin/users/role', 'DROP', '', 0, 0),
    ('compliance', 'ALL', '/admin/activities/admin', 'DROP', '', 0, 0),
    ('compliance', 'ALL', '/admin/permissions', 'DROP', '', 0, 0),
    ('compliance', 'POST', '/admin', 'AUDIT', 'admin', 0, 0),
    ('compliance', 'PUT', '/admin', 'AUDIT', 'admin', 0, 0),
    ('compliance', 'DELETE', '/admin', 'AUDIT', 'admin', 0, 0),
    ('technical', 'GET', '/admin', 'ACCEPT', '', 0, 0),
    ('technical', 'ALL', '/admin/restrictions', 'ACCEPT', '', 0, 0),
    ('technical', 'GET', '/admin/users/documents/pending', 'DROP', '', 0, 0),
    ('technical', 'ALL', '/admin/activities/admin', 'DROP', '', 0, 0),
    ('technical', 'ALL', '/admin/permissions', 'DROP', '', 0, 0),
    ('technical', 'POST', '/admin', 'AUDIT', 'admin', 0, 0),
    ('technical', 'PUT', '/admin', 'AUDIT', 'admin', 0, 0),
    ('technical', 'DELETE', '/admin', 'AUDIT', 'admin', 0, 0),
    ('accountant', 'GET', '/admin', 'ACCEPT', '', 0, 0),
    ('accountant', 'GET', '/admin/users/documents/pending', 'DROP', '', 0, 0),
    ('accountant', 'ALL', '/admin/users/role', 'DROP', '', 0, 0),
    ('accountant', 'ALL', '/admin/permissions', 'DROP', '', 0, 0),
    ('accountant', 'ALL', '/admin/activities/admin', 'DROP', '', 0, 0),
    ('accountant', 'POST', '/admin', 'AUDIT', 'admin', 0, 0),
    ('accountant', 'PUT', '/admin', 'AUDIT', 'admin', 0, 0),
    ('accountant', 'DELETE', '/admin', 'AUDIT', 'admin', 0, 0),
    ('support', 'GET', '/admin', 'ACCEPT', '', 0, 0),
    ('support', 'POST', '/admin/users/update', 'ACCEPT', '', 0, 0),
    ('support', 'ALL', '/admin/restrictions', 'DROP', '', 0, 0),
    ('support', 'ALL', '/admin/activities/admin', 'DROP', '', 0, 0),
    ('support', 'ALL', '/admin/permissions', 'DROP', '', 0, 0),
    ('support', 'POST', '/admin', 'AUDIT', 'admin', 0, 0),
    ('support', 'PUT', '/admin', 'AUDIT', 'admin', 0, 0),
    ('support', 'DELETE', '/admin', 'AUDIT', 'admin', 0, 0);

-- admin.users.list pages newest first by id under a role or state filter.
CREATE INDEX users_role_idx ON users (role, id);
CREATE INDEX users_state_idx ON users (state, id);
CREATE INDEX users_created_idx ON users (created_at);
