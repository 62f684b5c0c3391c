/* hrbot web chat: the page's own words in Chinese and English, and each role's shortcuts.
 * (The bot's messages come translated from the server; these are only the page's labels.) */
"use strict";

window.HRBOT_CHAT = (function () {
  const LABELS = {
    "zh-CN": {
      tagline: "社保延迟缴纳防护助手", demo_note: "演示模式：选择一个人来扮演",
      placeholder: "输入消息，或上传材料（PDF、照片）…", send: "发送",
      choose_title: "请选择一个身份", choose_hint: "在左侧选择要扮演的人：员工、分公司 HR、HR 经理或财务。",
      notice: "通知", original: "原消息",
      live: "实时", reconnecting: "重连中…", too_large: "“{name}”超过 {mb} MB 的上限",
      too_many: "一次最多 10 个文件", failed: "发送失败，请重试", choose_first: "请先选择身份",
      groups: { employee: "员工", hr: "分公司 HR", hr_manager: "HR 经理", hr_director: "HR 总监", finance: "财务" },
      roles: { employee: "员工", hr: "分公司 HR", hr_manager: "HR 经理", hr_director: "HR 总监", finance: "财务" },
      shortcuts: { "/status": "我的社保", "/claim": "报销", "/progress": "进度", "/alerts": "告警", "/roster": "花名册",
        "/approvals": "待审批", "/cancel": "取消", "/help": "帮助" },
    },
    en: {
      tagline: "Keeps employees safe from late social insurance", demo_note: "Demo mode: pick someone to play",
      placeholder: "Type a message, or attach documents (PDF, photos)…", send: "Send",
      choose_title: "Choose who you are", choose_hint: "Pick a person on the left: an employee, branch HR, the HR manager or finance.",
      notice: "Notice", original: "Original",
      live: "Live", reconnecting: "Reconnecting…", too_large: "“{name}” is over the {mb} MB limit",
      too_many: "At most 10 files at once", failed: "Could not send; please try again", choose_first: "Choose who you are first",
      groups: { employee: "Employees", hr: "Branch HR", hr_manager: "HR manager", hr_director: "HR director", finance: "Finance" },
      roles: { employee: "Employee", hr: "Branch HR", hr_manager: "HR manager", hr_director: "HR director", finance: "Finance" },
      shortcuts: { "/status": "My status", "/claim": "Claim", "/progress": "Progress", "/alerts": "Alerts", "/roster": "Roster",
        "/approvals": "Approvals", "/cancel": "Cancel", "/help": "Help" },
    },
  };
  const ROLE_SHORTCUTS = {
    employee: ["/status", "/claim", "/progress", "/cancel", "/help"],
    hr: ["/alerts", "/roster", "/status", "/claim", "/progress", "/help"],
    hr_manager: ["/alerts", "/roster", "/status", "/help"],
    hr_director: ["/alerts", "/status", "/help"],
    finance: ["/approvals", "/status", "/claim", "/progress", "/help"],
  };

  return { LABELS, ROLE_SHORTCUTS };
})();
