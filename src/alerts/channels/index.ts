export {
  type EmailChannelOptions,
  emailChannel,
  type MailTransporter,
  type SmtpTransportOptions,
} from './email.js';
export { type AlertChannelFunction, functionChannel } from './function.js';
export { type LogChannelOptions, logChannel } from './log.js';
export { type SlackChannelOptions, slackChannel } from './slack.js';
export {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  type VerifyWebhookSignatureOptions,
  verifyWebhookSignature,
  type WebhookChannelOptions,
  webhookChannel,
} from './webhook.js';
