"""The contacts directory (通讯录) as admins maintain it, one module per concern.

- ``scope``: what part of an org an admin may see and edit; every contacts service resolves it first.
- ``departments``: the tree with member counts, a department's page, create / edit / move / delete.
- ``dept_form`` and ``dept_rules``: a department's settings (部门主管, 部门管理员, 部门群, hiding, restricted viewing)
  and the rules the form enforces.
- ``counts`` and ``names``: member counts and membership reads without N+1 queries; display names in scope.
- ``roles``: membership and roles (managers, group owners, department-admin grants follow who is a member).
- ``people`` and ``person_form``: people's lifecycle (create, edit, 加入现有人员, 置为无效, 恢复有效) and the form.
- ``search``: departments and people by name, mobile or login, within the scope.

Writes go through ``app.services.write``.
"""
