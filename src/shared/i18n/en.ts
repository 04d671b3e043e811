import type { ErrorCode } from '../errors.js';

/** English catalog. Placeholders are `{name}`; ko.ts must provide every key (checked by `satisfies`). */
export const en = {
  errors: {
    UNSUPPORTED_FORMAT: 'That file is not an image I can read. Please upload a JPEG, PNG, WebP, GIF, AVIF or HEIF photo.',
    BAD_IMAGE: 'That image looks damaged or incomplete. Please upload it again or try another photo.',
    IMAGE_TOO_LARGE: 'That image is too large (limit: {limit}). Please upload a smaller photo.',
    IMAGE_TOO_SMALL: 'That image is too small. Please upload a photo at least {minSide} px on each side.',
    NO_FACE: 'I could not find a face in that photo. Please use a clear, front-facing selfie.',
    MULTIPLE_FACES: 'I found {count} faces in that photo. Please use a photo with only your face.',
    FACE_TOO_SMALL: 'The face in that photo is too small. Please use a closer selfie.',
    FACE_TURNED_AWAY: 'The face is turned too far to the side (about {yaw}°). Please look at the camera.',
    DOWNLOAD_HOST_NOT_ALLOWED: 'I can only use images uploaded to Discord.',
    DOWNLOAD_TOO_LARGE: 'That file is too large (limit: {limit}).',
    DOWNLOAD_TIMEOUT: 'Downloading your image took too long. Please try again.',
    DOWNLOAD_FAILED: 'I could not download your image. Please try again.',
    PRESET_NOT_FOUND: 'There is no preset called "{name}" here.',
    PRESET_NAME_INVALID: 'Preset names use 1–32 letters, digits, spaces, "-" or "_".',
    PRESET_EXISTS: 'A preset called "{name}" already exists.',
    PRESET_LIMIT_REACHED: 'This server already has {limit} presets. Remove one first.',
    PRESET_KIND_MISMATCH: '"{name}" is not a {kind} preset.',
    NEED_SHAPE_OR_COLOR: 'Pick a hair shape, a hair color, or both.',
    QUOTA_EXCEEDED: 'You have reached the limit of {limit} try-ons per hour. You can try again {retryAt}.',
    TOO_MANY_JOBS: 'You already have a try-on in progress. Please wait for it to finish.',
    USER_BLOCKED: 'You cannot use this bot on this server.',
    QUEUE_PAUSED: 'Try-ons are paused for now. Please try again later.',
    NOT_OWNER: 'Only the person who asked for this can do that.',
    NOT_MODERATOR: 'Only moderators can manage presets.',
    JOB_NOT_FOUND: 'That try-on is no longer available.',
    JOB_CANCELLED: 'Your try-on was cancelled.',
    JOB_TIMEOUT: 'Your try-on took too long and was stopped. Please try again.',
    DISCORD_UNAVAILABLE: 'Discord is not answering right now. Please try again in a moment.',
    OUT_OF_MEMORY: 'The server is busy. Please try again in a moment.',
    MODEL_MISSING: 'The bot is not set up completely. Please tell the server admins.',
    MODEL_INVALID: 'The bot is not set up correctly. Please tell the server admins.',
    EP_UNAVAILABLE: 'The bot is not set up correctly. Please tell the server admins.',
    CONFIG_INVALID: 'The bot is not set up correctly. Please tell the server admins.',
    INTERNAL: 'Something went wrong on our side (job {jobId}). Please try again.',
  } satisfies Record<ErrorCode, string>,
  ui: {} as Record<string, string>,
};

export type Catalog = typeof en;
