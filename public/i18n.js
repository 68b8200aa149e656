// Every interface string, one dictionary per language, plus the helpers both pages share.
export const STRINGS = {
  en: {
    appName: 'Class chat',
    loginTitle: 'Join the class chat',
    loginIntro: 'Pick a nickname and an animal, then chat with your class.',
    nickname: 'Nickname',
    nicknameHint: '1 to 24 characters, any language.',
    nicknameTooLong: 'Too long: at most 24 characters (an emoji counts as one).',
    avatar: 'Avatar',
    join: 'Join the chat',
    language: 'Language',
    cat: 'Cat', dog: 'Dog', fox: 'Fox', panda: 'Panda', owl: 'Owl',
    frog: 'Frog', rabbit: 'Rabbit', bear: 'Bear', penguin: 'Penguin', tiger: 'Tiger',
    people: 'People',
    close: 'Close',
    chats: 'Chats',
    group: 'Group',
    groupTitle: 'Group chat',
    groupNote: 'Everyone online can read this.',
    online: 'Online',
    onlineLabel: 'online',
    you: '{name} (you)',
    youSaid: 'You:',
    privateFrom: '{name} wrote to you privately',
    sound: 'Sound',
    privateWith: 'Private chat with {name}',
    privateNote: 'Only you and {name} can see this conversation.',
    recall: 'Recall',
    recalled: '{name} recalled a message',
    youRecalled: 'You recalled a message',
    recallTooLate: 'A message can be recalled for two minutes only.',
    recallFailed: 'Could not recall it: try again when the connection is back.',
    privateNoteAway: '{name} is offline: what you write is kept and reaches them when they come back.',
    backToGroup: 'Back to group',
    unread: '{count} unread',
    message: 'Message (Enter sends, Shift+Enter starts a new line)',
    placeholder: 'Message…',
    send: 'Send',
    emoji: 'Insert emoji',
    newMessages: '{count} new messages ↓',
    newMessage: '1 new message ↓',
    sending: 'Sending…',
    sent: 'Sent',
    failed: 'Not sent',
    retry: 'Retry',
    rate_limited: 'Not sent: too fast, wait a moment',
    not_online: 'Not sent: nobody here is called {name}',
    too_long: 'Not sent: too long',
    empty: 'Not sent: empty',
    invalid_message: 'Not sent',
    timeout: 'Not sent: no answer from the server',
    typing1: '{a} is typing…',
    typing2: '{a} and {b} are typing…',
    typingMany: 'Several people are typing…',
    joined: '{name} joined',
    left: '{name} left',
    connecting: 'Connecting…',
    offline: 'Connection lost. Reconnecting… Your messages will be sent when it is back.',
    restarting: 'The server is restarting. Reconnecting…',
    backToLogin: 'Choose another nickname',
    emptyLog: 'No messages yet. Say hello! 👋',
    teacherNote: 'You are signing in as the teacher',
    teacher: 'Teacher',
    quiet: 'Quiet mode',
    pin: 'Pin announcement',
    pinPrompt: 'Announcement to pin for everyone:',
    pinned: 'Pinned',
    unpin: 'Unpin',
    clear: 'Clear history',
    clearConfirm: 'Clear the group history for everyone?',
    transcript: 'Download transcript',
    mute: 'Mute',
    unmute: 'Unmute',
    kick: 'Remove',
    kickConfirm: 'Remove {name} from the chat?',
    removed: 'Removed',
    allow: 'Allow back',
    mutedTag: 'muted',
    kicked: 'The teacher has removed you from the chat.',
    cleared: 'The teacher cleared the history',
    announcement: 'Announcement',
    mutedNote: 'The teacher has muted you.',
    quietNote: 'Quiet mode: only the teacher can write.',
    muted: 'Not sent: muted by the teacher',
    quiet_mode: 'Not sent: quiet mode, only the teacher can write',
    bad_image: 'Not sent: not a picture',
    too_large: 'Not sent: picture too large',
    attach: 'Attach a picture',
    picture: 'Picture',
    notDone: 'That did not work.',
    noRoom: 'This class does not exist.',
    noRoomAnyMore: 'This class does not exist (any more).',
    home: 'Go to the start page',
    badKey: 'This teacher link is no longer valid.',
    badKeyHint: 'Ask for the new link, or join as a student.',
    joinAsStudent: 'Join as a student',
    closedRoom: 'The teacher closed this class.',
    kickedHint: 'Ask your teacher to let you back in.',
    loginPage: 'Back to the login page',
    tooManyTries: 'Too many tries with a wrong teacher link from this device.',
    tooManyTriesHint: 'Wait a few minutes before opening a teacher link again, or join as a student now.',
    adminTitle: 'Classes',
    adminNoKey: 'To manage the classes, open the admin link printed in the server\'s terminal.',
    adminOffline: 'The server does not answer. Retrying…',
    newClass: 'New class',
    classTitle: 'Title',
    classId: 'Address name (optional)',
    classIdHint: 'Lower-case letters, digits and dashes, like 7b. Made from the title if left empty.',
    create: 'Create',
    studentAddress: 'Student address',
    projectorPage: 'Projector page',
    teacherLink: 'Teacher link (keep it to yourself)',
    copy: 'Copy',
    copied: 'Copied',
    copyByHand: 'Selected: press Ctrl+C (or ⌘C) to copy',
    deleteClass: 'Delete',
    deleteConfirm: 'Delete the class “{title}”? Everyone in it is disconnected and its messages are gone.',
    qrOf: 'QR code of {url}',
    defaultClass: 'default class',
  },
  zh: {
    appName: '课堂聊天',
    loginTitle: '加入课堂聊天',
    loginIntro: '起一个昵称，选一个小动物，就可以和同学聊天了。',
    nickname: '昵称',
    nicknameHint: '1 到 24 个字符，任何语言都可以。',
    nicknameTooLong: '太长了：最多 24 个字符（一个表情算一个字符）。',
    avatar: '头像',
    join: '进入聊天',
    language: '语言',
    cat: '猫', dog: '狗', fox: '狐狸', panda: '熊猫', owl: '猫头鹰',
    frog: '青蛙', rabbit: '兔子', bear: '熊', penguin: '企鹅', tiger: '老虎',
    people: '成员',
    close: '关闭',
    chats: '会话',
    group: '群聊',
    groupTitle: '群聊',
    groupNote: '所有在线的人都能看到。',
    online: '在线',
    onlineLabel: '人在线',
    you: '{name}（我）',
    youSaid: '我：',
    privateFrom: '{name} 给你发了私信',
    sound: '提示音',
    privateWith: '与 {name} 私聊',
    privateNote: '只有你和 {name} 能看到这段对话。',
    recall: '撤回',
    recalled: '{name} 撤回了一条消息',
    youRecalled: '你撤回了一条消息',
    recallTooLate: '消息发出两分钟后不能再撤回。',
    recallFailed: '撤回失败：请在连接恢复后再试。',
    privateNoteAway: '{name} 现在不在线：你发的消息会保存，等对方回来时送达。',
    backToGroup: '返回群聊',
    unread: '{count} 条未读',
    message: '消息（Enter 发送，Shift+Enter 换行）',
    placeholder: '输入消息…',
    send: '发送',
    emoji: '插入表情',
    newMessages: '{count} 条新消息 ↓',
    newMessage: '1 条新消息 ↓',
    sending: '发送中…',
    sent: '已发送',
    failed: '发送失败',
    retry: '重试',
    rate_limited: '发送失败：太快了，请稍等',
    not_online: '发送失败：这里没有叫 {name} 的人',
    too_long: '发送失败：消息太长',
    empty: '发送失败：消息为空',
    invalid_message: '发送失败',
    timeout: '发送失败：服务器没有响应',
    typing1: '{a} 正在输入…',
    typing2: '{a} 和 {b} 正在输入…',
    typingMany: '好几个人正在输入…',
    joined: '{name} 加入了聊天',
    left: '{name} 离开了',
    connecting: '正在连接…',
    offline: '连接已断开，正在重新连接…恢复后会自动发送你的消息。',
    restarting: '服务器正在重启，正在重新连接…',
    backToLogin: '换一个昵称',
    emptyLog: '还没有消息，打个招呼吧！👋',
    teacherNote: '你将以老师身份登录',
    teacher: '老师',
    quiet: '全员禁言',
    pin: '置顶公告',
    pinPrompt: '置顶给所有人的公告：',
    pinned: '置顶',
    unpin: '取消置顶',
    clear: '清空记录',
    clearConfirm: '为所有人清空群聊记录？',
    transcript: '下载聊天记录',
    mute: '禁言',
    unmute: '解除禁言',
    kick: '移出',
    kickConfirm: '将 {name} 移出聊天室？',
    removed: '已移出',
    allow: '允许回来',
    mutedTag: '已禁言',
    kicked: '老师已将你移出聊天室。',
    cleared: '老师清空了聊天记录',
    announcement: '公告',
    mutedNote: '你已被老师禁言。',
    quietNote: '全员禁言中：只有老师可以发言。',
    muted: '发送失败：已被老师禁言',
    quiet_mode: '发送失败：全员禁言中，只有老师可以发言',
    bad_image: '发送失败：不是图片',
    too_large: '发送失败：图片太大',
    attach: '发送图片',
    picture: '图片',
    notDone: '操作失败。',
    noRoom: '这个班级不存在。',
    noRoomAnyMore: '这个班级不存在（或已被删除）。',
    home: '回到首页',
    badKey: '这个老师链接已经失效。',
    badKeyHint: '请索取新的链接，或以学生身份加入。',
    joinAsStudent: '以学生身份加入',
    closedRoom: '老师已关闭这个班级。',
    kickedHint: '请让老师允许你回来。',
    loginPage: '回到登录页',
    tooManyTries: '这台设备使用错误的老师链接次数太多。',
    tooManyTriesHint: '请等几分钟后再打开老师链接，或者现在以学生身份加入。',
    adminTitle: '班级管理',
    adminNoKey: '要管理班级，请打开服务器终端里显示的管理链接。',
    adminOffline: '服务器没有响应，正在重试…',
    newClass: '新建班级',
    classTitle: '名称',
    classId: '地址名（可选）',
    classIdHint: '小写字母、数字和短横线，例如 7b。留空则由名称生成。',
    create: '创建',
    studentAddress: '学生地址',
    projectorPage: '投影页面',
    teacherLink: '老师链接（请勿外传）',
    copy: '复制',
    copied: '已复制',
    copyByHand: '已选中：按 Ctrl+C（或 ⌘C）复制',
    deleteClass: '删除',
    deleteConfirm: '删除班级“{title}”？班里的人都会断开连接，消息也会被删除。',
    qrOf: '{url} 的二维码',
    defaultClass: '默认班级',
  },
};

export const AVATARS = ['cat', 'dog', 'fox', 'panda', 'owl', 'frog', 'rabbit', 'bear', 'penguin', 'tiger'];
export const toAvatar = (id) => (AVATARS.includes(id) ? id : 'cat');
export const avatarUrl = (id) => `avatars/${toAvatar(id)}.svg`;
/** The nickname as the server will store it (so the session saved under it is found again). */
export const toNickname = (raw) => raw.normalize('NFC').trim().replace(/\s+/gu, ' ');

export const DEFAULT_ROOM = 'main';
const ROOM_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** The room named in the address (`?room=7b`, as typed on a phone: any case); none is the default room. */
export const toRoomId = (raw) => String(raw ?? '').trim().toLowerCase() || DEFAULT_ROOM;
export const isRoomId = (id) => ROOM_ID.test(id);
/** The query-string part that names a room: nothing for the default room, so its addresses stay as they were. */
export const roomParams = (id) => (id === DEFAULT_ROOM ? {} : { room: id });
/** The default room under its default title (or a server that sends none) shows the app's name, translated. */
export const isDefaultTitle = ({ id, title }) => !title || (id === DEFAULT_ROOM && title === STRINGS.en.appName);
export const toRoomTitle = (room) => (isDefaultTitle(room) ? t('appName') : room.title);

/** Web storage that never throws (private mode, disabled storage, quota). */
const toStore = (kind) => ({
  get(key) { try { return window[kind].getItem(key); } catch { return null; } },
  set(key, value) { try { window[kind].setItem(key, value); } catch {} },
});
export const store = toStore('localStorage');
export const tabStore = toStore('sessionStorage'); // this tab only: the teacher and admin keys

const toLang = (tag) => (String(tag).toLowerCase().startsWith('zh') ? 'zh' : 'en');
let lang = toLang(store.get('chat.lang') ?? navigator.language);
export const getLang = () => lang;

/** The string `key` with `{var}` filled from `vars` (an element's dataset works too). */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? '');
}

const ATTRS = { label: 'aria-label', placeholder: 'placeholder', alt: 'alt', title: 'title' };

/** Fills every `data-i18n*` element under `root`; dynamic elements keep their variables in data-*. */
export function translate(root = document) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n, el.dataset);
  for (const [hook, attr] of Object.entries(ATTRS)) {
    const key = 'i18n' + hook[0].toUpperCase() + hook.slice(1);
    for (const el of root.querySelectorAll(`[data-i18n-${hook}]`)) el.setAttribute(attr, t(el.dataset[key], el.dataset));
  }
}

/** Wires a `<select>` of languages: shows the current one, switches, remembers, then calls `onChange`. */
export function bindLanguageSelect(select, onChange = () => {}) {
  select.value = lang;
  select.addEventListener('change', () => {
    lang = toLang(select.value);
    store.set('chat.lang', lang);
    translate();
    onChange(lang);
  });
  translate();
}
