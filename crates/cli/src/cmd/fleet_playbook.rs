//! The files of the Ansible project `portplan fleet` writes that do not
//! depend on the deployment: the playbook and the settings. What differs
//! per deployment is in the inventory (each host's `portplan_as` /
//! `portplan_from`) and in `group_vars/all/portplan.yml`.
//!
//! Choices that rest on Ansible's documentation:
//! - `ignore_unreachable` keeps an unreachable host in the play so the
//!   `always` section records it (docs.ansible.com, "Error handling in
//!   playbooks", section "Ignoring unreachable host errors"); later steps
//!   are skipped with the `reachable` test (ansible.builtin.reachable).
//! - The linear strategy runs each task on every host before the next, so
//!   every responder is listening before any `verify` starts, and none is
//!   stopped before every `verify` has ended.
//! - `verify` runs with `async` and `poll: 0`, then `async_status`, so all
//!   sources probe at once whatever `forks` is ("Asynchronous actions and
//!   polling").
//! - The secret reaches a host as a file written by `copy` with `no_log`:
//!   never on a command line (where `ps` would show it), nor in the
//!   `environment` keyword, which Ansible puts in front of the remote
//!   command.

/// The playbook (`verify.yml`).
pub const PLAYBOOK: &str = r#"# Written by `portplan fleet`: proves a deployment's flows on every host.
#
#   export PORTPLAN_SECRET="$(openssl rand -base64 32)"   # or put it in a vault, see group_vars/all/secret.yml
#   ansible-playbook -i inventory.yml verify.yml
#
# 1. copies portplan and the deployment to each host (a private temporary
#    folder), and the shared secret as a file only the user can read;
# 2. starts `portplan respond` (with a time to live) on every host that must
#    accept flows, and waits until each listens (not with --installed: then
#    the real services answer);
# 3. runs `portplan verify --from` on every source host, all at once;
# 4. always stops the responders and removes the folder, even when a step
#    failed, and records what happened on each host in results/;
# 5. merges everything into results/../report.html, report.json, report.xml
#    (JUnit), pushes it to a portplan serve when `portplan_push` is set
#    (group_vars/all/portplan.yml), and prints the table; the run fails when
#    the flows are not proven.
#
# A host that cannot be reached, a port another process holds, a responder
# that cannot bind: each is recorded with its cause and shown in the report;
# the run goes on for the other hosts.

- name: "portplan fleet: a fresh results folder"
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Remove the results of an earlier run
      ansible.builtin.file:
        path: "{{ portplan_results }}"
        state: absent
    - name: Create the results folder
      ansible.builtin.file:
        path: "{{ portplan_results }}"
        state: directory
        mode: "0700"
    - name: The shared secret is set (PORTPLAN_SECRET, or a vault)
      when: not portplan_installed
      no_log: true
      ansible.builtin.assert:
        that:
          - portplan_secret is defined
          - portplan_secret | length >= 24
        fail_msg: >-
          portplan_secret is missing or shorter than 24 characters: export
          PORTPLAN_SECRET="$(openssl rand -base64 32)", or set portplan_secret
          in group_vars/all/secret.yml with ansible-vault encrypt_string

- name: "portplan fleet: respond, verify, always clean up"
  hosts: portplan
  gather_facts: false
  ignore_unreachable: true
  become: "{{ portplan_become }}"
  vars:
    pp_bin: "{{ portplan_remote_binary if portplan_remote_binary else pp_dir.path ~ '/portplan' }}"
    pp_catalog_args: "{{ ['--catalog', pp_dir.path ~ '/catalog'] if portplan_catalog else [] }}"
  tasks:
    - name: Prove the paths, and always stop the responders
      block:
        - name: A private working folder on the host
          ansible.builtin.tempfile:
            state: directory
            prefix: portplan-fleet-
          register: pp_dir

        - name: Steps on a reachable host
          when: pp_dir is reachable
          block:
            - name: Copy the portplan binary
              when: not portplan_remote_binary
              ansible.builtin.copy:
                src: "{{ portplan_binary }}"
                dest: "{{ pp_dir.path }}/portplan"
                mode: "0700"
              register: pp_copy_binary

            - name: Copy the deployment
              ansible.builtin.copy:
                src: "{{ playbook_dir }}/files/deployment.yaml"
                dest: "{{ pp_dir.path }}/deployment.yaml"
                mode: "0600"
              register: pp_copy_deployment

            - name: Copy the catalog folder
              when: portplan_catalog | bool
              ansible.builtin.copy:
                src: "{{ playbook_dir }}/files/catalog/"
                dest: "{{ pp_dir.path }}/catalog/"
                mode: "0600"
                directory_mode: "0700"
              register: pp_copy_catalog

            - name: Write the shared secret (a file only this user reads)
              when: not portplan_installed
              no_log: true
              ansible.builtin.copy:
                content: "{{ portplan_secret }}"
                dest: "{{ pp_dir.path }}/secret"
                mode: "0600"
              register: pp_secret

            - name: Start the responder
              when: portplan_as is defined and not portplan_installed
              ansible.builtin.shell:
                chdir: "{{ pp_dir.path }}"
                # setsid and closed standard streams: the responder outlives
                # this task; its time to live ends it if nothing else does.
                cmd: >-
                  setsid {{ pp_bin | quote }} {{ pp_catalog_args | map('quote') | join(' ') }}
                  respond deployment.yaml --as {{ portplan_as | quote }}
                  --ttl {{ portplan_ttl | quote }} --secret-file secret --format json
                  > respond.log 2>&1 < /dev/null & echo $! > respond.pid
              register: pp_respond

            - name: Wait until the responder listens
              when: pp_respond is defined and pp_respond is succeeded and pp_respond is not skipped
              ansible.builtin.wait_for:
                path: "{{ pp_dir.path }}/respond.log"
                search_regex: '"event":"ready"'
                timeout: "{{ portplan_ready_timeout }}"
              register: pp_ready
              ignore_errors: true

            - name: Verify from this host (all sources at once)
              when: portplan_from is defined
              ansible.builtin.command:
                chdir: "{{ pp_dir.path }}"
                argv: >-
                  {{ [pp_bin] + pp_catalog_args
                     + ['verify', 'deployment.yaml', '--from', portplan_from,
                        '--timeout', portplan_probe_timeout,
                        '--format', 'json', '--output', 'result.json']
                     + (['--installed'] if portplan_installed else ['--secret-file', 'secret']) }}
              async: "{{ portplan_verify_budget }}"
              poll: 0
              register: pp_verify_job

            - name: Wait for verify to end
              when: pp_verify_job is defined and pp_verify_job is not skipped
              ansible.builtin.async_status:
                jid: "{{ pp_verify_job.ansible_job_id }}"
              register: pp_verify
              until: pp_verify.finished
              retries: "{{ portplan_verify_budget }}"
              delay: 1
              # verify exits 1 when a path fails: the report says which.
              failed_when: false

            - name: Fetch the result
              when: pp_verify is defined and pp_verify.rc | default(-1) in [0, 1]
              ansible.builtin.fetch:
                src: "{{ pp_dir.path }}/result.json"
                dest: "{{ portplan_results }}/{{ inventory_hostname }}.verify.json"
                flat: true
              register: pp_fetch

      always:
        - name: Stop the responder
          when: pp_respond is defined and pp_respond is reachable and pp_respond is succeeded and pp_respond is not skipped
          ansible.builtin.shell:
            chdir: "{{ pp_dir.path }}"
            cmd: 'kill "$(cat respond.pid)" 2>/dev/null; sleep 0.2; cat respond.log'
          register: pp_respond_log
          failed_when: false

        - name: Remove the working folder (binary, deployment, secret)
          when: pp_dir is reachable and pp_dir.path is defined
          ansible.builtin.file:
            path: "{{ pp_dir.path }}"
            state: absent
          failed_when: false

        - name: Record what happened on this host
          delegate_to: localhost
          become: false
          ansible.builtin.copy:
            dest: "{{ portplan_results }}/{{ inventory_hostname }}.host.json"
            mode: "0600"
            content: >-
              {{ {'kind': 'portplan-fleet-host',
                  'host': inventory_hostname,
                  'from': portplan_from | default(none),
                  'as': portplan_as | default(none),
                  'steps': [
                    ['working folder', pp_dir | default(none)],
                    ['copy binary', pp_copy_binary | default(none)],
                    ['copy deployment', pp_copy_deployment | default(none)],
                    ['copy catalog', pp_copy_catalog | default(none)],
                    ['write secret', {'failed': (pp_secret | default({})) is failed,
                                      'unreachable': (pp_secret | default({})) is unreachable,
                                      'skipped': (pp_secret | default({'skipped': true})) is skipped}],
                    ['start responder', pp_respond | default(none)],
                    ['wait for responder', pp_ready | default(none)],
                    ['verify', pp_verify | default(pp_verify_job | default(none))],
                    ['fetch result', pp_fetch | default(none)]],
                  'respond_log': (pp_respond_log.stdout | default(none))} | to_nice_json }}

- name: "portplan fleet: one report"
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    pp_catalog_args: "{{ ['--catalog', playbook_dir ~ '/files/catalog'] if portplan_catalog else [] }}"
  tasks:
    - name: Merge the results (HTML, JSON, JUnit)
      ansible.builtin.command:
        argv: >-
          {{ [portplan_control_binary] + pp_catalog_args
             + ['report', portplan_results, '--deployment', playbook_dir ~ '/files/deployment.yaml',
                '--format', item.format, '--output', playbook_dir ~ '/' ~ item.file] }}
      loop:
        - { format: html, file: report.html }
        - { format: json, file: report.json }
        - { format: junit, file: report.xml }
      register: pp_reports
      changed_when: true
      failed_when: pp_reports.rc not in [0, 1]

    - name: Push the report to portplan serve
      ansible.builtin.command:
        argv: >-
          {{ [portplan_control_binary] + pp_catalog_args
             + ['report', portplan_results, '--deployment', playbook_dir ~ '/files/deployment.yaml',
                '--format', 'json', '--output', playbook_dir ~ '/report.pushed.json',
                '--push', portplan_push, '--push-source', 'portplan fleet'] }}
      when: portplan_push | default('') | length > 0
      register: pp_push
      changed_when: true
      failed_when: pp_push.rc not in [0, 1]

    - name: The report
      ansible.builtin.command:
        argv: >-
          {{ [portplan_control_binary, '--wide'] + pp_catalog_args
             + ['report', portplan_results, '--deployment', playbook_dir ~ '/files/deployment.yaml'] }}
      register: pp_table
      changed_when: false
      failed_when: pp_table.rc not in [0, 1]

    - name: Show the report
      ansible.builtin.debug:
        msg: "{{ pp_table.stdout_lines }}"

    - name: The flows are proven
      ansible.builtin.assert:
        that: pp_table.rc == 0
        fail_msg: "not proven: see {{ playbook_dir }}/report.html"
        success_msg: "every required flow is proven ({{ playbook_dir }}/report.html)"
"#;

/// `group_vars/all/secret.yml`: where the shared secret comes from.
pub const SECRET_VARS: &str = r#"# The shared secret of `portplan respond` and `portplan verify`.
#
# By default it is read from the PORTPLAN_SECRET environment variable of the
# control node. To keep it in a vault instead, replace the line below with
# the output of:
#
#   ansible-vault encrypt_string "$(openssl rand -base64 32)" --name portplan_secret
#
# and run ansible-playbook with --ask-vault-pass (or --vault-password-file).
# The playbook writes it on each host as a file (mode 0600, no_log) and
# removes it at the end; it never appears on a command line.
portplan_secret: "{{ lookup('ansible.builtin.env', 'PORTPLAN_SECRET') }}"
"#;
