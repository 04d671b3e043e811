import type { LicenseUse } from '../shared/model-licenses.js';
import { graphContract } from '../pipeline/hairfast/contract.js';
import type { ContractGraph as GraphName } from '../pipeline/hairfast/graphs.contract.js';

/**
 * Every file the official HairFastGAN code (AIRI-Institute/HairFastGAN at `HAIRFAST_SOURCE.commit`) reads when
 * `HairFast(get_parser().parse_args([]))` is constructed and run, plus the OpenAI CLIP ViT-B/32 file that
 * `clip.load("ViT-B/32")` downloads, with where each comes from, how it is checked and its licenses. The one home
 * of these URLs: `hairstyler models import` checks a tree against it and `--download` fetches from it.
 *
 * Read from the official code (paths relative to the repository root, which the official code runs from):
 * - `hair_swap.py` get_parser: `--ckpt pretrained_models/StyleGAN/ffhq.pt`, `--rotate_checkpoint`,
 *   `--blending_checkpoint`, `--pp_checkpoint`.
 * - `models/Net.py` Net: `torch.load(opts.ckpt)` (`g_ema`, `latent_avg`), `ckpt[:-3] + '_PCA.npz'` (built with 1M
 *   samples when missing), and `FaceParsing_tensor.parsing_img()` →
 *   `models/CtrlHair/external_code/face_parsing/my_parsing_util.py`: `BiSeNet/face_parsing_79999_iter.pth`.
 * - `models/Embedding.py`: `FSencoder.get_trainer` (`models/FeatureStyleEncoder/FSencoder.py` opts + `trainer.py`
 *   initialize: `143_enc.pth`, `psp_ffhq_encode.pt` (`decoder` keys, `latent_avg`), `backbone.pth` (ArcFace, also
 *   read by `fs_encoder_v2`'s constructor), `79999_iter.pth`), and `setup_model('…/e4e_ffhq_encode.pt')`.
 * - `models/Alignment.py`: SEAN `Pix2PixModel(SEAN_OPT)` → `util.load_network` →
 *   `sean_checkpoints/CelebA-HQ_pretrained/latest_net_G.pth`; `ShapeAdaptor/mask_generator.pth`;
 *   `opts.rotate_checkpoint` (`model_state_dict`).
 * - `models/Blending.py` + `models/Encoders.py`: `opts.blending_checkpoint` (`model_state_dict`, optional `clip`),
 *   `clip.load(...)`; PostProcessModel: `ArcFace/backbone_ir50.pth`, `PostProcess/latent_avg.pt`, then
 *   `opts.pp_checkpoint` (`model_state_dict`).
 * - `utils/shape_predictor.py` (only `swap(..., align=True)`): `ShapeAdaptor/shape_predictor_68_face_landmarks.dat`.
 * - Both BiSeNet copies' `Resnet18.init_weight` call `modelzoo.load_url(resnet18_url)` at construction (torch hub
 *   cache); the weights are overwritten by the checkpoint right after.
 * Training-only files on the Hub (`StyleGAN/ffhq.pkl`, `BiSeNet/seg.pth`, `ArcFace/backbone_r100.pth`,
 * `ArcFace/ir_se50.pth`, `Blending/checkpoint_old*.pth`, `sean_checkpoints/…/latest_net_D.pth`, `STAR/`) are not
 * listed: no inference path opens them.
 */

/** The official model repository on the Hugging Face Hub (its `pretrained_models/` folder). */
export const HAIRFAST_HUB = {
  baseUrl: 'https://huggingface.co',
  repo: 'AIRI-Institute/HairFastGAN',
  /** The newest commit of `main` we could read ("Upload diagram.webp"); `pretrained_models/` is unchanged since "init" (627bfa8). */
  revision: '47855f8ea72b02294649385211a1ae1fd7dcb58e',
  /** The model card's license field. */
  license: 'MIT (Hub model card)',
} as const;

/** The official source, downloaded as GitHub's tarball of one commit. */
export const HAIRFAST_SOURCE = {
  baseUrl: 'https://github.com',
  repo: 'AIRI-Institute/HairFastGAN',
  commit: '49e98019c9243d1991c19d45764fc3340a498de2',
  /** `git rev-parse <commit>^{tree}`: what the unpacked tarball must hash to (git's tree hash of its files). */
  tree: '59f94eff869ff109d2beaebe2234a26d08b2e3a1',
} as const;

/** `clip.load("ViT-B/32")`: the clip package's `_MODELS` URL; its sha256 is the URL's second-to-last segment. */
export const CLIP_VIT_B32 = {
  baseUrl: 'https://openaipublic.azureedge.net',
  path: '/clip/models/40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt',
  sha256: '40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af',
  /** Where the official code finds it: clip.load's default `download_root`, file name = the URL's basename. */
  cachePath: '~/.cache/clip/ViT-B-32.pt',
} as const;

export const TORCHVISION_RESNET18 = {
  baseUrl: 'https://download.pytorch.org',
  path: '/models/resnet18-5c106cde.pth',
  /** torch hub checks that the file's sha256 starts with the hex after the last '-' of its name. */
  sha256Prefix: '5c106cde',
  cachePath: '~/.cache/torch/hub/checkpoints/resnet18-5c106cde.pth',
} as const;

export const UPSTREAM_PART_IDS = [
  'hairfast', 'stylegan2-ffhq', 'e4e', 'psp', 'feature-style-encoder', 'arcface', 'face-parsing', 'sean',
  'ctrlhair', 'clip', 'torchvision', 'dlib-68',
] as const;
export type UpstreamPartId = (typeof UPSTREAM_PART_IDS)[number];

export interface UpstreamPart {
  /** Who made it and where it lives. */
  readonly origin: string;
  readonly code: string;
  readonly weights: string;
  /** The strictest of the two (src/shared/model-licenses.ts). */
  readonly use: LicenseUse;
}

/** Each part's terms as read from its license files (in the official repository unless another source is named). */
export const UPSTREAM_PARTS: Readonly<Record<UpstreamPartId, UpstreamPart>> = {
  hairfast: {
    origin: 'AIRI-Institute/HairFastGAN (Rotate, Blending, PostProcess encoders)',
    code: 'MIT (LICENSE, AIRI 2024)',
    weights: 'MIT (Hub model card license: mit)',
    use: 'open',
  },
  'stylegan2-ffhq': {
    origin: 'NVIDIA StyleGAN2 FFHQ config-f, as converted by rosinality/stylegan2-pytorch (models/stylegan2)',
    code: 'MIT (rosinality model.py); its CUDA ops (models/stylegan2/op) Nvidia Source Code License-NC — the exporter replaces them',
    weights: 'Nvidia Source Code License-NC (https://nvlabs.github.io/stylegan2/license.html): non-commercial, research and evaluation only',
    use: 'non-commercial',
  },
  e4e: {
    origin: 'omertov/encoder4editing (models/encoder4editing); the checkpoint also holds the StyleGAN2 FFHQ decoder',
    code: 'MIT (models/encoder4editing/LICENSE)',
    weights: 'no separate license; trained on and bundled with the NVIDIA StyleGAN2 FFHQ generator (Nvidia Source Code License-NC)',
    use: 'non-commercial',
  },
  psp: {
    origin: 'eladrich/pixel2style2pixel FFHQ encoder checkpoint (only its StyleGAN2 decoder keys and latent_avg are read)',
    code: 'MIT (pixel2style2pixel)',
    weights: 'the StyleGAN2 FFHQ generator and its mean latent: Nvidia Source Code License-NC',
    use: 'non-commercial',
  },
  'feature-style-encoder': {
    origin: 'InterDigital FeatureStyleEncoder (models/FeatureStyleEncoder)',
    code: 'InterDigital Limited Software Evaluation License (LICENSE.md): fundamental research only; excludes any commercial use, any product offered to a third party (free or paid) and any use to provide a service to a third party',
    weights: '143_enc.pth is part of the released Software: same evaluation-only license',
    use: 'evaluation-only',
  },
  arcface: {
    origin: 'InsightFace arcface_torch iresnet50 (deepinsight/insightface)',
    code: 'MIT (insightface)',
    weights: 'insightface README: models trained on its data are for non-commercial research purposes only',
    use: 'non-commercial',
  },
  'face-parsing': {
    origin: 'zllrunning/face-parsing.PyTorch BiSeNet (models/CtrlHair/external_code/face_parsing)',
    code: 'MIT (face_parsing/LICENSE, zll 2019)',
    weights: 'MIT (released with the code); trained on CelebAMask-HQ, whose terms allow non-commercial research only',
    use: 'open',
  },
  sean: {
    origin: 'NVIDIA/ZPdesu SEAN (models/sean_codes), CelebA-HQ pretrained generator',
    code: 'CC BY-NC-SA 4.0 (header of every models/sean_codes file: "Copyright (C) 2019 NVIDIA Corporation")',
    weights: 'CC BY-NC-SA 4.0 (released with the code)',
    use: 'non-commercial',
  },
  ctrlhair: {
    origin: 'XuyangGuo/CtrlHair shape branch (models/CtrlHair/shape_branch), mask_generator.pth from the HairFastGAN Hub',
    code: 'no license: neither XuyangGuo/CtrlHair nor its copy in HairFastGAN has a LICENSE file or header (looked: README, every folder)',
    weights: 'MIT per the Hub model card, but trained with the unlicensed CtrlHair code',
    use: 'no-license',
  },
  clip: {
    origin: 'OpenAI CLIP ViT-B/32 (openai/CLIP)',
    code: 'MIT (openai/CLIP LICENSE)',
    weights: 'MIT (openai/CLIP LICENSE covers the released models)',
    use: 'open',
  },
  torchvision: {
    origin: 'torchvision ImageNet resnet18',
    code: 'BSD-3-Clause (torchvision)',
    weights: 'BSD-3-Clause (torchvision)',
    use: 'open',
  },
  'dlib-68': {
    origin: "dlib's shape_predictor_68_face_landmarks (trained on iBUG 300-W)",
    code: 'Boost Software License (dlib)',
    weights: 'dlib: the 300-W dataset license excludes commercial use',
    use: 'non-commercial',
  },
};

/** Who reads a file: an exported graph, only the official constructor, or only the official face alignment. */
export type OfficialFileRole = 'export' | 'official-constructor' | 'official-align';

export interface OfficialFile {
  /** Where the file sits: under `pretrained_models/` (`hub`), the clip cache (`clip`) or the torch hub cache (`torch-hub`). */
  readonly location: 'hub' | 'clip' | 'torch-hub';
  /** Path relative to that location (`StyleGAN/ffhq.pt` = `pretrained_models/StyleGAN/ffhq.pt`). */
  readonly path: string;
  /**
   * The size check: the Hub's listing shows sizes in SI units to three significant digits ("133 MB"); a file
   * passes when it is within one unit of the last shown digit (`hubSizeRange`). The exact size and sha256 of a Hub
   * file are its Git LFS pointer's (`X-Linked-Size`, `X-Linked-Etag` on `resolve/`), checked on download.
   */
  readonly hubSize?: string;
  /** Known sha256 (CLIP: from its URL); `undefined` = the Hub's LFS oid, read at download time. */
  readonly sha256?: string;
  readonly role: OfficialFileRole;
  /** The contract graphs whose weights come from this file (empty for constructor-only files). */
  readonly graphs: readonly GraphName[];
  /** The official code that opens it, and what it reads. */
  readonly readBy: string;
  readonly parts: readonly UpstreamPartId[];
}

const GEN: readonly GraphName[] = ['rotate', 'e4e', 'embed', 'g_f32_to_img', 'g_f64_to_img'];

export const OFFICIAL_FILES: readonly OfficialFile[] = [
  { location: 'hub', path: 'StyleGAN/ffhq.pt', hubSize: '133 MB', role: 'export', graphs: GEN,
    readBy: "models/Net.py Net.load_weights: ckpt['g_ema'], ckpt['latent_avg']", parts: ['stylegan2-ffhq'] },
  { location: 'hub', path: 'StyleGAN/ffhq_PCA.npz', hubSize: '2.11 MB', role: 'official-constructor', graphs: [],
    readBy: 'models/Net.py Net.load_PCA_model (X_mean, X_comp, X_stdev; rebuilt from 1M samples when missing)', parts: ['stylegan2-ffhq'] },
  { location: 'hub', path: 'BiSeNet/face_parsing_79999_iter.pth', hubSize: '53.3 MB', role: 'export', graphs: ['bisenet', 'rotate'],
    readBy: 'models/CtrlHair/external_code/face_parsing/my_parsing_util.py FaceParsing_tensor.parsing_img (state dict)', parts: ['face-parsing'] },
  { location: 'hub', path: 'encoder4editing/e4e_ffhq_encode.pt', hubSize: '1.2 GB', role: 'export', graphs: ['e4e', 'embed'],
    readBy: "models/encoder4editing/utils/model_utils.py setup_model: ckpt['opts'], ckpt['state_dict'] (encoder.*, decoder.*), ckpt['latent_avg']", parts: ['e4e', 'stylegan2-ffhq'] },
  { location: 'hub', path: 'FeatureStyleEncoder/143_enc.pth', hubSize: '456 MB', role: 'export', graphs: ['embed'],
    readBy: 'models/FeatureStyleEncoder/FSencoder.py get_trainer: trainer.enc state dict', parts: ['feature-style-encoder', 'arcface'] },
  { location: 'hub', path: 'FeatureStyleEncoder/psp_ffhq_encode.pt', hubSize: '1.2 GB', role: 'export', graphs: ['embed'],
    readBy: "models/FeatureStyleEncoder/trainer.py Trainer.initialize: ckpt['state_dict'] decoder.*, ckpt['latent_avg']", parts: ['psp', 'stylegan2-ffhq'] },
  { location: 'hub', path: 'FeatureStyleEncoder/backbone.pth', hubSize: '175 MB', role: 'official-constructor', graphs: [],
    readBy: 'models/FeatureStyleEncoder nets/feature_style_encoder.py fs_encoder_v2 and trainer.py Trainer.initialize (ArcFace iresnet50 state dict; overwritten by 143_enc.pth)', parts: ['arcface'] },
  { location: 'hub', path: 'FeatureStyleEncoder/79999_iter.pth', hubSize: '53.3 MB', role: 'official-constructor', graphs: [],
    readBy: "models/FeatureStyleEncoder/trainer.py Trainer.initialize: parsing_net state dict (the trainer's BiSeNet, unused at inference)", parts: ['face-parsing'] },
  { location: 'hub', path: 'ShapeAdaptor/mask_generator.pth', hubSize: '964 MB', role: 'export', graphs: ['ctrl_face_enc', 'ctrl_hair_enc', 'ctrl_decode'],
    readBy: 'models/Alignment.py: SolverMask(...).gen state dict', parts: ['ctrlhair'] },
  { location: 'hub', path: 'ShapeAdaptor/shape_predictor_68_face_landmarks.dat', hubSize: '99.7 MB', role: 'official-align', graphs: [],
    readBy: 'utils/shape_predictor.py align_face (dlib), only for swap(..., align=True); hairstyler aligns with its own face models', parts: ['dlib-68'] },
  { location: 'hub', path: 'Rotate/rotate_best.pth', hubSize: '26.3 MB', role: 'export', graphs: ['rotate'],
    readBy: "models/Alignment.py: torch.load(opts.rotate_checkpoint)['model_state_dict']", parts: ['hairfast'] },
  { location: 'hub', path: 'sean_checkpoints/CelebA-HQ_pretrained/latest_net_G.pth', hubSize: '1.07 GB', role: 'export', graphs: ['sean_encode', 'sean_decode'],
    readBy: "models/sean_codes/util/util.py load_network(netG, 'G', 'latest', SEAN_OPT) (state dict)", parts: ['sean'] },
  { location: 'hub', path: 'Blending/checkpoint.pth', hubSize: '89.3 MB', role: 'export', graphs: ['color_mod'],
    readBy: "models/Blending.py: ck['model_state_dict'] (loaded strict=False), ck.get('clip', 'ViT-B/32')", parts: ['hairfast'] },
  { location: 'hub', path: 'PostProcess/pp_model.pth', hubSize: '797 MB', role: 'export', graphs: ['refine'],
    readBy: "models/Blending.py: torch.load(opts.pp_checkpoint)['model_state_dict'] into PostProcessModel (its iresnet50s start from ArcFace)", parts: ['hairfast', 'arcface'] },
  { location: 'hub', path: 'PostProcess/latent_avg.pt', hubSize: '2.8 kB', role: 'export', graphs: ['refine'],
    readBy: 'models/Encoders.py PostProcessModel.__init__ (tensor; finall_s = latent_avg + …)', parts: ['hairfast', 'stylegan2-ffhq'] },
  { location: 'hub', path: 'ArcFace/backbone_ir50.pth', hubSize: '175 MB', role: 'official-constructor', graphs: [],
    readBy: 'models/Net.py FeatureEncoder (PostProcessModel): iresnet50 state dict, overwritten by pp_model.pth', parts: ['arcface'] },
  { location: 'clip', path: 'ViT-B-32.pt', sha256: CLIP_VIT_B32.sha256, role: 'export', graphs: ['clip_visual'],
    readBy: 'models/Encoders.py ClipBlendingModel / ClipModel: clip.load("ViT-B/32") (TorchScript archive; visual.* used)', parts: ['clip'] },
  { location: 'torch-hub', path: 'resnet18-5c106cde.pth', role: 'official-constructor', graphs: [],
    readBy: 'face_parsing/resnet.py Resnet18.init_weight: modelzoo.load_url (both BiSeNet copies; overwritten by their checkpoints)', parts: ['torchvision'] },
];

/** Graphs that load no file (pure tensor math of the official code): only its MIT code. */
export const WEIGHTLESS_GRAPHS: readonly GraphName[] = ['align_f', 'blend_masks'];

const SI: Record<string, number> = { B: 1, Bytes: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** "133 MB" → [132e6, 134e6]: the bytes a file shown with that size may have (one unit of the last digit either way). */
export function hubSizeRange(shown: string): { min: number; max: number } {
  const match = /^(\d+)(?:\.(\d+))?\s*(B|Bytes|kB|MB|GB|TB)$/.exec(shown.trim());
  if (!match) throw new TypeError(`Expected a Hub size such as "133 MB" for shown but received ${JSON.stringify(shown)}`);
  const [, whole, fraction = '', unit] = match;
  const scale = SI[unit!]!;
  const value = Number(`${whole}.${fraction || '0'}`) * scale;
  const step = scale / 10 ** fraction.length;
  return { min: Math.round(value - step), max: Math.round(value + step) };
}

/** The URL a file is downloaded from, against the given base URLs (tests point them at a local server). */
export function officialFileUrl(file: OfficialFile, bases: DownloadBases = DEFAULT_BASES): string | undefined {
  if (file.location === 'hub') {
    return `${bases.hub}/${HAIRFAST_HUB.repo}/resolve/${HAIRFAST_HUB.revision}/pretrained_models/${file.path}`;
  }
  if (file.location === 'clip') return `${bases.clip}${CLIP_VIT_B32.path}`;
  return undefined; // the torch-hub file is fetched by torch itself, never by us
}

export function sourceTarballUrl(bases: DownloadBases = DEFAULT_BASES): string {
  return `${bases.github}/${HAIRFAST_SOURCE.repo}/archive/${HAIRFAST_SOURCE.commit}.tar.gz`;
}

export interface DownloadBases {
  readonly hub: string;
  readonly clip: string;
  readonly github: string;
}

export const DEFAULT_BASES: DownloadBases = {
  hub: HAIRFAST_HUB.baseUrl,
  clip: CLIP_VIT_B32.baseUrl,
  github: HAIRFAST_SOURCE.baseUrl,
};

/** The files an export needs (what `models import` checks in `--checkpoints` and `--clip`). */
export function exportFiles(): OfficialFile[] {
  return OFFICIAL_FILES.filter((f) => f.role === 'export');
}

/** The upstream parts a graph's weights come from (`hairfast` code always; weightless graphs only that). */
export function graphParts(graph: GraphName): UpstreamPartId[] {
  const parts = new Set<UpstreamPartId>(['hairfast']);
  // A composite (e.g. `swap`) carries the weights, and so the licenses, of every split graph it is built from.
  const members = new Set<string>([graph, ...(graphContract().composites[graph]?.composes ?? [])]);
  for (const file of OFFICIAL_FILES) if (file.graphs.some((g) => members.has(g))) for (const p of file.parts) parts.add(p);
  return [...parts];
}

/** One line per file for error messages and docs: path, expected size and where it comes from. */
export function describeOfficialFile(file: OfficialFile): string {
  if (file.location === 'clip') return `${file.path} (sha256 ${CLIP_VIT_B32.sha256.slice(0, 12)}…; OpenAI CLIP ViT-B/32, ${CLIP_VIT_B32.baseUrl}${CLIP_VIT_B32.path}; the official code reads ${CLIP_VIT_B32.cachePath})`;
  if (file.location === 'torch-hub') return `${file.path} (torchvision, ${TORCHVISION_RESNET18.baseUrl}${TORCHVISION_RESNET18.path})`;
  return `pretrained_models/${file.path} (≈${file.hubSize}; ${HAIRFAST_HUB.baseUrl}/${HAIRFAST_HUB.repo} pretrained_models at ${HAIRFAST_HUB.revision.slice(0, 7)})`;
}
